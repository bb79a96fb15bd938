// The machine's FP32 multiply-add limit, measured with the active ISA's FMA loop.
#pragma once

namespace keras::cpu {

// GFLOP/s of `threads` threads running the FMA loop side by side for about `seconds`.
double measure_fma_peak_gflops(int threads, double seconds);

}  // namespace keras::cpu
