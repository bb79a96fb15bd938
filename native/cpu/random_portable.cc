// portable instantiations of the random kernels (random_kernels.h): Philox in plain lane
// loops, 4 blocks per step. Built with this ISA's flags; called only when it is the active path.
#include "simd/simd_portable.h"
#include "random_kernels.h"

namespace keras::cpu::random {

const Kernels kRandomPortable = make_kernels<portable::Isa, philox::LaneLoops<4>>();

}  // namespace keras::cpu::random
