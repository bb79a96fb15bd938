// portable instantiation of the layer- and batch-normalization rows (norm_kernels.h,
// batch_norm_kernels.h), in one object so their shared helpers exist once per ISA.
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_portable.h"
#include "norm_kernels.h"
#include "batch_norm_kernels.h"

namespace keras::cpu {

constexpr NormIsaTable kNormPortableTable = make_norm_table<portable::Isa>("portable");
const NormIsaTable kNormPortable = kNormPortableTable;

constexpr BatchNormIsaTable kBatchNormPortableTable = make_batch_norm_table<portable::Isa>("portable");
const BatchNormIsaTable kBatchNormPortable = kBatchNormPortableTable;

}  // namespace keras::cpu
