// portable instantiation of the reduction folds (reduction_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "reduction_kernels.h"
#include "simd/simd_portable.h"

namespace keras::cpu {

constexpr ReductionIsaTable kReductionPortableTable = make_reduction_table<portable::Isa>("portable");
const ReductionIsaTable kReductionPortable = kReductionPortableTable;

}  // namespace keras::cpu
