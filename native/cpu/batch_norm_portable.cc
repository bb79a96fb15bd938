// portable instantiation of the fused batch normalization rows (batch_norm_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_portable.h"
#include "batch_norm_kernels.h"

namespace keras::cpu {

constexpr BatchNormIsaTable kBatchNormPortableTable = make_batch_norm_table<portable::Isa>("portable");
const BatchNormIsaTable kBatchNormPortable = kBatchNormPortableTable;

}  // namespace keras::cpu
