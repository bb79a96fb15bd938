// portable instantiation of the float32 softmax rows (softmax_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_portable.h"
#include "softmax_kernels.h"

namespace keras::cpu {

constexpr SoftmaxIsaTable kSoftmaxPortableTable = make_softmax_table<portable::Isa>("portable");
const SoftmaxIsaTable kSoftmaxPortable = kSoftmaxPortableTable;

}  // namespace keras::cpu
