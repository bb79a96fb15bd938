// avx2 instantiations of the kernel templates. Built with this ISA's compiler
// flags (see binding.gyp / CMakeLists.txt); called only after cpuid says yes.
#include "gemm_microkernel.h"
#include "gemm_packing.h"
#include "isa_kernels.h"
#include "simd/simd_avx2.h"

namespace keras::cpu {

using F32 = avx2::Vec<float>;
using F64 = avx2::Vec<double>;

const IsaKernelTable kAvx2Kernels = {
    "avx2",
    {"f32_gemm_6x16_avx2", 6, 2 * F32::kWidth, &gemm_microkernel<F32, 6, 2>,
     &pack_a_panels<F32, 6, avx2::Isa>, &pack_b_panels<F32, 2 * F32::kWidth, avx2::Isa>, make_gemm_rows_kernels<F32>()},
    {"f64_gemm_6x8_avx2", 6, 2 * F64::kWidth, &gemm_microkernel<F64, 6, 2>,
     &pack_a_panels<F64, 6, avx2::Isa>, &pack_b_panels<F64, 2 * F64::kWidth, avx2::Isa>, make_gemm_rows_kernels<F64>()},
    &fma_peak_loop<F32, 12>,
    fma_peak_flops_per_iteration<F32, 12>(),
    &kAvx2Elementwise,
};

}  // namespace keras::cpu
