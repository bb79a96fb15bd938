// avx2 instantiation of the fused optimizer updates (optimizer_kernels.h). Built with this ISA's
// flags; called only after cpuid says yes.
#include "simd/simd_avx2.h"
#include "optimizer_kernels.h"

namespace keras::cpu {

constexpr OptimizerIsaTable kOptimizerAvx2Table = make_optimizer_table<avx2::Isa>("avx2");
const OptimizerIsaTable kOptimizerAvx2 = kOptimizerAvx2Table;

}  // namespace keras::cpu
