// portable instantiation of the layer-normalization rows (norm_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_portable.h"
#include "norm_kernels.h"

namespace keras::cpu {

constexpr NormIsaTable kNormPortableTable = make_norm_table<portable::Isa>("portable");
const NormIsaTable kNormPortable = kNormPortableTable;

}  // namespace keras::cpu
