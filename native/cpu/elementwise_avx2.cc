// avx2 instantiations of the elementwise and reduction row templates.
// Built with this ISA's flags; called only after cpuid says yes.
#include "elementwise_kernels.h"
#include "simd/simd_avx2.h"

namespace keras::cpu {

constexpr ElementwiseTable kAvx2ElementwiseTable = make_elementwise_table<avx2::Isa>();
const ElementwiseTable kAvx2Elementwise = kAvx2ElementwiseTable;

}  // namespace keras::cpu
