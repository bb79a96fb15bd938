// avx512 instantiation of the reduction folds (reduction_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "reduction_kernels.h"
#include "simd/simd_avx512.h"

namespace keras::cpu {

constexpr ReductionIsaTable kReductionAvx512Table = make_reduction_table<avx512::Isa>("avx512");
const ReductionIsaTable kReductionAvx512 = kReductionAvx512Table;

}  // namespace keras::cpu
