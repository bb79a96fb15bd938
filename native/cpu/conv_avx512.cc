// avx512 instantiations of the convolution and pooling loops (conv_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "conv_kernels.h"
#include "simd/simd_avx512.h"

namespace keras::cpu {

constexpr ConvIsaTable kConvAvx512Table = make_conv_table<avx512::Isa, 14, 2, 14, 2, 6>("avx512", "f32_igemm_14x32_avx512", "f64_igemm_14x16_avx512");
const ConvIsaTable kConvAvx512 = kConvAvx512Table;

}  // namespace keras::cpu
