// avx512 instantiations of the random kernels (random_kernels.h), 16 Philox blocks per step.
// Built with this ISA's flags; called only when it is the active path.
#include "simd/simd_avx512.h"
#include "random_kernels.h"

namespace keras::cpu::random {

const Kernels kRandomAvx512 = make_kernels<avx512::Isa, 16>();

}  // namespace keras::cpu::random
