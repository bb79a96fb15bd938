// portable instantiations of the random kernels (random_kernels.h), 4 Philox blocks per step.
// Built with this ISA's flags; called only when it is the active path.
#include "simd/simd_portable.h"
#include "random_kernels.h"

namespace keras::cpu::random {

const Kernels kRandomPortable = make_kernels<portable::Isa, 4>();

}  // namespace keras::cpu::random
