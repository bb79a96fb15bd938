// portable instantiation of the fused optimizer updates (optimizer_kernels.h). Built with this ISA's
// flags; called only after cpuid says yes.
#include "simd/simd_portable.h"
#include "optimizer_kernels.h"

namespace keras::cpu {

constexpr OptimizerIsaTable kOptimizerPortableTable = make_optimizer_table<portable::Isa>("portable");
const OptimizerIsaTable kOptimizerPortable = kOptimizerPortableTable;

}  // namespace keras::cpu
