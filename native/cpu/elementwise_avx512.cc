// avx512 instantiations of the elementwise and reduction row templates.
// Built with this ISA's flags; called only after cpuid says yes.
#include "elementwise_kernels.h"
#include "simd/simd_avx512.h"

namespace keras::cpu {

constexpr ElementwiseTable kAvx512ElementwiseTable = make_elementwise_table<avx512::Isa>();
const ElementwiseTable kAvx512Elementwise = kAvx512ElementwiseTable;

}  // namespace keras::cpu
