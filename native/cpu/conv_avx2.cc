// avx2 instantiations of the convolution and pooling loops (conv_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "conv_kernels.h"
#include "simd/simd_avx2.h"

namespace keras::cpu {

constexpr ConvIsaTable kConvAvx2Table = make_conv_table<avx2::Isa, 6, 2, 6, 2, 6>("avx2", "f32_igemm_6x16_avx2", "f64_igemm_6x8_avx2");
const ConvIsaTable kConvAvx2 = kConvAvx2Table;

}  // namespace keras::cpu
