// avx512 instantiation of the float32 softmax rows (softmax_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx512.h"
#include "softmax_kernels.h"

namespace keras::cpu {

constexpr SoftmaxIsaTable kSoftmaxAvx512Table = make_softmax_table<avx512::Isa>("avx512");
const SoftmaxIsaTable kSoftmaxAvx512 = kSoftmaxAvx512Table;

}  // namespace keras::cpu
