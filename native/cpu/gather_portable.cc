// portable instantiation of the element gathers (gather_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_portable.h"
#include "gather_kernels.h"

namespace keras::cpu {

constexpr GatherIsaTable kGatherPortableTable = make_gather_table<portable::Isa>("portable");
const GatherIsaTable kGatherPortable = kGatherPortableTable;

}  // namespace keras::cpu
