// avx512 instantiations of the kernel templates. Built with this ISA's compiler
// flags (see binding.gyp / CMakeLists.txt); called only after cpuid says yes.
#include "gemm_microkernel.h"
#include "gemm_packing.h"
#include "isa_kernels.h"
#include "simd/simd_avx512.h"

namespace keras::cpu {

using F32 = avx512::Vec<float>;
using F64 = avx512::Vec<double>;

const IsaKernelTable kAvx512Kernels = {
    "avx512",
    {"f32_gemm_14x32_avx512", 14, 2 * F32::kWidth, &gemm_microkernel<F32, 14, 2>,
     &pack_a_panels<F32, 14, avx512::Isa>, &pack_b_panels<F32, 2 * F32::kWidth, avx512::Isa>, make_gemm_rows_kernels<F32>()},
    {"f64_gemm_14x16_avx512", 14, 2 * F64::kWidth, &gemm_microkernel<F64, 14, 2>,
     &pack_a_panels<F64, 14, avx512::Isa>, &pack_b_panels<F64, 2 * F64::kWidth, avx512::Isa>, make_gemm_rows_kernels<F64>()},
    &fma_peak_loop<F32, 24>,
    fma_peak_flops_per_iteration<F32, 24>(),
    &kAvx512Elementwise,
};

}  // namespace keras::cpu
