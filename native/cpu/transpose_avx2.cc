// avx2 instantiation of the block transposes (transpose_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx2.h"
#include "transpose_kernels.h"

namespace keras::cpu {

constexpr TransposeIsaTable kTransposeAvx2Table = make_transpose_table<avx2::Isa>("avx2");
const TransposeIsaTable kTransposeAvx2 = kTransposeAvx2Table;

}  // namespace keras::cpu
