// avx2 instantiation of the float32 softmax rows (softmax_kernels.h).
// Built with this ISA's flags; called only after cpuid says yes.
#include "simd/simd_avx2.h"
#include "softmax_kernels.h"

namespace keras::cpu {

constexpr SoftmaxIsaTable kSoftmaxAvx2Table = make_softmax_table<avx2::Isa>("avx2");
const SoftmaxIsaTable kSoftmaxAvx2 = kSoftmaxAvx2Table;

}  // namespace keras::cpu
