// avx512 instantiations of the convolution and pooling loops (conv_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "conv_kernels.h"
#include "simd/simd_avx512.h"

namespace keras::cpu {

// Filter-gradient tiles of 4 rows: the channel counts of most convolutions (powers of two) are
// whole tiles, where 6-row tiles ran 36 rows of FMAs for 32 channels ([64,13,13,32] filter
// gradient 1.56 -> 1.40-1.53 ms, 'same' 32x32 64->64 11.3-11.7 -> 11.1-11.4 ms). AVX2's 16
// registers keep 6 (4 rows there: 1.79 -> 1.85-1.91 ms, 13.8 -> 15.6 ms). Tiles of one or two
// vectors (16 or 32 output channels) take 8 rows: their loads per FMA halve ([8,16,16,16,32]
// 3x3x3 32->32 7.3 -> 6.5 ms, [16,28,28,16] 16->16 0.52 -> 0.44; 8 rows with three vectors made
// 64 channels 7% slower).
constexpr ConvIsaTable kConvAvx512Table = make_conv_table<avx512::Isa, 14, 2, 14, 2, 4, 8, 2>("avx512", "f32_igemm_14x32_avx512", "f64_igemm_14x16_avx512");
const ConvIsaTable kConvAvx512 = kConvAvx512Table;

}  // namespace keras::cpu
