// Philox4x32-10 and the word-to-float conversions of keras-node's random stream,
// bit-exact with lib/random/philox.ts (spec: docs/random.md, sections 1-3).
#pragma once
#include <cstdint>

namespace keras::cpu::philox {

constexpr uint32_t kM0 = 0xD2511F53u;
constexpr uint32_t kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u;
constexpr uint32_t kW1 = 0xBB67AE85u;

// One block: ten rounds over counter c with key (k0, k1), bumped between rounds.
inline void block(uint32_t c[4], uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const uint64_t p0 = uint64_t(kM0) * c[0];
    const uint64_t p1 = uint64_t(kM1) * c[2];
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c[1] ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c[3] ^ k1;
    c[1] = uint32_t(p1);
    c[3] = uint32_t(p0);
    c[0] = n0;
    c[2] = n2;
  }
}

// Words 4b .. 4b+3 of the stream of key (k0, k1): counter (b mod 2^32, b / 2^32, 0, 0).
inline void stream_block(uint64_t b, uint32_t k0, uint32_t k1, uint32_t out[4]) {
  out[0] = uint32_t(b);
  out[1] = uint32_t(b >> 32);
  out[2] = 0;
  out[3] = 0;
  block(out, k0, k1);
}

// float32 uniform of one word: top 24 bits times 2^-24.
inline float word_to_float32(uint32_t w) { return float(w >> 8) * (1.0f / 16777216.0f); }

// float64 uniform of two words: top 27 bits of a, top 26 of b, times 2^-53.
inline double words_to_float64(uint32_t a, uint32_t b) {
  return (double(a >> 5) * 67108864.0 + double(b >> 6)) * (1.0 / 9007199254740992.0);
}

}  // namespace keras::cpu::philox
