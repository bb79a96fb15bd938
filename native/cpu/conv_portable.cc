// portable instantiations of the convolution and pooling loops (conv_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "conv_kernels.h"
#include "simd/simd_portable.h"

namespace keras::cpu {

constexpr ConvIsaTable kConvPortableTable = make_conv_table<portable::Isa, 6, 2, 6, 2, 6>("portable", "f32_igemm_6x8_portable", "f64_igemm_6x4_portable");
const ConvIsaTable kConvPortable = kConvPortableTable;

}  // namespace keras::cpu
