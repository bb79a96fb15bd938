// avx512 instantiation of the layer-normalization rows (norm_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx512.h"
#include "norm_kernels.h"

namespace keras::cpu {

constexpr NormIsaTable kNormAvx512Table = make_norm_table<avx512::Isa>("avx512");
const NormIsaTable kNormAvx512 = kNormAvx512Table;

}  // namespace keras::cpu
