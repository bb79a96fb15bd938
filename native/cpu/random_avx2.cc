// avx2 instantiations of the random kernels (random_kernels.h), 8 Philox blocks per step.
// Built with this ISA's flags; called only when it is the active path.
#include "simd/simd_avx2.h"
#include "random_kernels.h"

namespace keras::cpu::random {

const Kernels kRandomAvx2 = make_kernels<avx2::Isa, 8>();

}  // namespace keras::cpu::random
