// Philox4x32-10 and the word-to-float conversions of keras-node's random stream,
// bit-exact with lib/random/philox.ts (spec: docs/random.md, sections 1-3).
#pragma once
#include <cstdint>

namespace keras::cpu::philox {
// Internal linkage: each ISA translation unit keeps its own copies, so the linker
// never swaps in a copy built with another ISA's instructions.
namespace {

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

// The words of L consecutive blocks b .. b + L - 1 side by side: c[j][l] is word j of block
// b + l. Plain lane loops, every lane computing exactly `block` above; an ISA with 32x32->64
// vector multiplies supplies its own (random_<isa>.cc), this is the portable one.
template <int L>
struct LaneLoops {
  static constexpr int kBlocks = L;
  static void words(int64_t b, uint32_t k0, uint32_t k1, uint32_t (&c)[4][L]) {
    for (int l = 0; l < L; ++l) {
      c[0][l] = uint32_t(uint64_t(b + l));
      c[1][l] = uint32_t(uint64_t(b + l) >> 32);
      c[2][l] = 0;
      c[3][l] = 0;
    }
    for (int r = 0; r < 10; ++r) {
      if (r > 0) {
        k0 += kW0;
        k1 += kW1;
      }
      for (int l = 0; l < L; ++l) {
        const uint64_t p0 = uint64_t(kM0) * c[0][l];
        const uint64_t p1 = uint64_t(kM1) * c[2][l];
        const uint32_t n0 = uint32_t(p1 >> 32) ^ c[1][l] ^ k0;
        const uint32_t n2 = uint32_t(p0 >> 32) ^ c[3][l] ^ k1;
        c[1][l] = uint32_t(p1);
        c[3][l] = uint32_t(p0);
        c[0][l] = n0;
        c[2][l] = n2;
      }
    }
  }
  // The float32 uniforms of blocks b .. b + L - 1 in stream order (4 per block).
  static void float32(int64_t b, uint32_t k0, uint32_t k1, float* out) {
    uint32_t c[4][L];
    words(b, k0, k1, c);
    for (int l = 0; l < L; ++l) {
      for (int j = 0; j < 4; ++j) out[4 * l + j] = word_to_float32(c[j][l]);
    }
  }
};

// LaneLoops' blocks in vector registers: W (random_<isa>.cc) holds kWidth 32-bit lanes and
// supplies load/store/zero/set1, mulhilo (the 32x32->64 products of every lane, split into
// high and low words), xor3 and transpose_to_float32 (four word registers to kWidth blocks of
// float32 uniforms in stream order). kGroups independent groups of kWidth blocks per step: one
// group's round is a chain of ~8 cycles of latency (multiply, shifts, blend, xor), so a single
// group left the core mostly idle (uniform [4096,4096] float32 on avx512: 14.8 ms of CPU with
// one group, 28 ms in the compiler's build of LaneLoops, see the commit for four).
template <class W, int kGroups>
struct VectorLanes {
  using Reg = typename W::Reg;
  static constexpr int kBlocks = W::kWidth * kGroups;

  // Word j of block b + kWidth g + l in lane l of w[g][j].
  static void rounds(int64_t b, uint32_t k0, uint32_t k1, Reg (&w)[kGroups][4]) {
    alignas(64) uint32_t counter[2][kBlocks];
    for (int l = 0; l < kBlocks; ++l) {
      counter[0][l] = uint32_t(uint64_t(b + l));
      counter[1][l] = uint32_t(uint64_t(b + l) >> 32);
    }
    for (int g = 0; g < kGroups; ++g) {
      w[g][0] = W::load(counter[0] + W::kWidth * g);
      w[g][1] = W::load(counter[1] + W::kWidth * g);
      w[g][2] = W::zero();
      w[g][3] = W::zero();
    }
    const Reg m0 = W::set1(kM0), m1 = W::set1(kM1);
    for (int r = 0; r < 10; ++r) {
      if (r > 0) {
        k0 += kW0;
        k1 += kW1;
      }
      const Reg key0 = W::set1(k0), key1 = W::set1(k1);
      for (int g = 0; g < kGroups; ++g) {
        Reg hi0, lo0, hi1, lo1;
        W::mulhilo(w[g][0], m0, &hi0, &lo0);
        W::mulhilo(w[g][2], m1, &hi1, &lo1);
        w[g][0] = W::xor3(hi1, w[g][1], key0);
        w[g][2] = W::xor3(hi0, w[g][3], key1);
        w[g][1] = lo1;
        w[g][3] = lo0;
      }
    }
  }

  static void words(int64_t b, uint32_t k0, uint32_t k1, uint32_t (&c)[4][kBlocks]) {
    Reg w[kGroups][4];
    rounds(b, k0, k1, w);
    for (int g = 0; g < kGroups; ++g) {
      for (int j = 0; j < 4; ++j) W::store(c[j] + W::kWidth * g, w[g][j]);
    }
  }

  // The compiler's scattered scalar stores of LaneLoops' float32 took about half the fill's time.
  static void float32(int64_t b, uint32_t k0, uint32_t k1, float* out) {
    Reg w[kGroups][4];
    rounds(b, k0, k1, w);
    for (int g = 0; g < kGroups; ++g) W::transpose_to_float32(w[g], out + 4 * W::kWidth * g);
  }
};

// Uniforms of stream blocks [b0, b0 + count) into dst (float32: 4 elements per block,
// float64: 2; dst[0] is the first element of block b0), stopping after m elements.
// Lanes::kBlocks blocks at a time (Lanes: LaneLoops or an ISA's vector version).
template <class Lanes, class T>
inline void uniform_blocks(int64_t b0, int64_t count, uint32_t k0, uint32_t k1, T* dst, int64_t m) {
  constexpr int64_t per_block = sizeof(T) == 4 ? 4 : 2;
  constexpr int L = Lanes::kBlocks;
  int64_t b = b0;
  const int64_t end = b0 + count;
  for (; b + L <= end && (b + L - b0) * per_block <= m; b += L) {
    T* out = dst + (b - b0) * per_block;
    if constexpr (sizeof(T) == 4) {
      Lanes::float32(b, k0, k1, out);
    } else {
      uint32_t c[4][L];
      Lanes::words(b, k0, k1, c);
      for (int l = 0; l < L; ++l) {
        out[2 * l] = words_to_float64(c[0][l], c[1][l]);
        out[2 * l + 1] = words_to_float64(c[2][l], c[3][l]);
      }
    }
  }
  for (; b < end; ++b) {  // the tail, one block at a time
    uint32_t w[4];
    stream_block(uint64_t(b), k0, k1, w);
    const int64_t first = (b - b0) * per_block;
    for (int64_t i = 0; i < per_block && first + i < m; ++i) {
      if constexpr (sizeof(T) == 4) {
        dst[first + i] = word_to_float32(w[i]);
      } else {
        dst[first + i] = words_to_float64(w[2 * i], w[2 * i + 1]);
      }
    }
  }
}

}  // namespace

}  // namespace keras::cpu::philox
