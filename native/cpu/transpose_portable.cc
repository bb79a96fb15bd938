// portable instantiation of the block transposes (transpose_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_portable.h"
#include "transpose_kernels.h"

namespace keras::cpu {

constexpr TransposeIsaTable kTransposePortableTable = make_transpose_table<portable::Isa>("portable");
const TransposeIsaTable kTransposePortable = kTransposePortableTable;

}  // namespace keras::cpu
