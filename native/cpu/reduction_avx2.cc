// avx2 instantiation of the reduction folds (reduction_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "reduction_kernels.h"
#include "simd/simd_avx2.h"

namespace keras::cpu {

constexpr ReductionIsaTable kReductionAvx2Table = make_reduction_table<avx2::Isa>("avx2");
const ReductionIsaTable kReductionAvx2 = kReductionAvx2Table;

}  // namespace keras::cpu
