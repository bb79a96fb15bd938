// avx512 instantiation of the block transposes (transpose_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx512.h"
#include "transpose_kernels.h"

namespace keras::cpu {

constexpr TransposeIsaTable kTransposeAvx512Table = make_transpose_table<avx512::Isa>("avx512");
const TransposeIsaTable kTransposeAvx512 = kTransposeAvx512Table;

}  // namespace keras::cpu
