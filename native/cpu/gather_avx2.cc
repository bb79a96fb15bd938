// avx2 instantiation of the element gathers (gather_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx2.h"
#include "gather_kernels.h"

namespace keras::cpu {

constexpr GatherIsaTable kGatherAvx2Table = make_gather_table<avx2::Isa>("avx2");
const GatherIsaTable kGatherAvx2 = kGatherAvx2Table;

}  // namespace keras::cpu
