// portable instantiations of the elementwise and reduction row templates.
// Built with this ISA's flags; called only after cpuid says yes.
#include "elementwise_kernels.h"
#include "simd/simd_portable.h"

namespace keras::cpu {

constexpr ElementwiseTable kPortableElementwiseTable = make_elementwise_table<portable::Isa>();
const ElementwiseTable kPortableElementwise = kPortableElementwiseTable;

}  // namespace keras::cpu
