// avx512 instantiation of the element gathers (gather_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx512.h"
#include "gather_kernels.h"

namespace keras::cpu {

constexpr GatherIsaTable kGatherAvx512Table = make_gather_table<avx512::Isa>("avx512");
const GatherIsaTable kGatherAvx512 = kGatherAvx512Table;

}  // namespace keras::cpu
