// avx2 instantiation of the layer-normalization rows (norm_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx2.h"
#include "norm_kernels.h"

namespace keras::cpu {

constexpr NormIsaTable kNormAvx2Table = make_norm_table<avx2::Isa>("avx2");
const NormIsaTable kNormAvx2 = kNormAvx2Table;

}  // namespace keras::cpu
