// avx512 instantiation of the fused optimizer updates (optimizer_kernels.h). Built with this ISA's
// flags; called only after cpuid says yes.
#include "simd/simd_avx512.h"
#include "optimizer_kernels.h"

namespace keras::cpu {

constexpr OptimizerIsaTable kOptimizerAvx512Table = make_optimizer_table<avx512::Isa>("avx512");
const OptimizerIsaTable kOptimizerAvx512 = kOptimizerAvx512Table;

}  // namespace keras::cpu
