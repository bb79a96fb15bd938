// avx2 instantiation of the layer- and batch-normalization rows (norm_kernels.h,
// batch_norm_kernels.h), in one object so their shared helpers exist once per ISA.
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx2.h"
#include "norm_kernels.h"
#include "batch_norm_kernels.h"

namespace keras::cpu {

constexpr NormIsaTable kNormAvx2Table = make_norm_table<avx2::Isa>("avx2");
const NormIsaTable kNormAvx2 = kNormAvx2Table;

constexpr BatchNormIsaTable kBatchNormAvx2Table = make_batch_norm_table<avx2::Isa>("avx2");
const BatchNormIsaTable kBatchNormAvx2 = kBatchNormAvx2Table;

}  // namespace keras::cpu
