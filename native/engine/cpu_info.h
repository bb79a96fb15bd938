// What the processor offers: instruction sets, cache sizes, core count.
// Read once (cpuid's cache leaves, then sysfs, then AMD's legacy leaves, then safe defaults) and cached.
#pragma once
#include <cstdint>
#include <string>

namespace keras::engine {

struct CpuInfo {
  std::string vendor;
  std::string brand;
  bool has_avx2_fma = false;  // AVX2 + FMA3, with OS support for ymm state
  bool has_avx512 = false;    // AVX-512 F/BW/DQ/VL, with OS support for zmm state
  // Per-core data caches and the shared last level, in bytes.
  int64_t l1d_bytes = 32 * 1024;
  int64_t l2_bytes = 512 * 1024;
  int64_t l3_bytes = 8 * 1024 * 1024;
  int l3_sharing_cores = 1;  // cores that share one L3 (AMD CCX / Intel socket)
  int logical_cpus = 1;      // CPUs this process may run on
  int physical_cores = 1;    // logical_cpus / SMT width
};

const CpuInfo& cpu_info();

// Whether an output of `bytes` is past the last-level cache: it goes to memory anyway, so
// kernels write it by streaming stores (simd/streaming.h), without reading its lines first.
inline bool past_last_level_cache(int64_t bytes) { return bytes > cpu_info().l3_bytes; }

}  // namespace keras::engine
