// portable instantiations of the Philox uniform fill (philox.h), 4 blocks per step.
// Built with this ISA's flags; called only when it is the active path.
#include "philox.h"

namespace keras::cpu::philox {

void uniform_f32_portable(int64_t b0, int64_t count, uint32_t k0, uint32_t k1, float* out, int64_t n) {
  uniform_blocks<4>(b0, count, k0, k1, out, n);
}

void uniform_f64_portable(int64_t b0, int64_t count, uint32_t k0, uint32_t k1, double* out, int64_t n) {
  uniform_blocks<4>(b0, count, k0, k1, out, n);
}

}  // namespace keras::cpu::philox
