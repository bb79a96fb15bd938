// Philox4x32-10 and the word-to-float conversions of keras-node's random stream,
// bit-exact with lib/random/philox.ts (spec: docs/random.md, sections 1-3).
#pragma once
#include <algorithm>
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

// LaneLoops' blocks in vector registers, one block per 64-bit lane: the low half of a lane
// holds the word, the high half is don't-care. vpmuludq reads only low halves, so a round is a
// multiply, a shift (the product's high word down) and a three-way xor per product; a low word
// is the product itself, and the garbage in high halves only ever meets xors and later
// multiplies that ignore it. W (random_<isa>.cc) holds kLanes 64-bit lanes and supplies
// counter (lanes b + l), set1, mul (vpmuludq), high (>> 32), xor3, store_words (the low halves)
// and to_float32 (words 0-3 of kLanes blocks to their float32 uniforms in stream order).
// Against 32-bit lanes (products of even and odd lanes blended back) this is 6 instructions a
// round instead of 16 per two registers' blocks: [4096,4096] float32 uniforms 0.46 -> 0.38 ns
// an element in L1 on Zen 4 (half-rate AVX-512), where vpmuludq and the shifts each issue once a
// cycle. kGroups independent groups a step hide the multiply's latency.
template <class W, int kGroups>
struct VectorLanes {
  using Reg = typename W::Reg;
  static constexpr int kBlocks = W::kLanes * kGroups;

  // Word j of block b + kLanes g + l in the low half of lane l of c[g][j].
  static void rounds(int64_t b, uint32_t k0, uint32_t k1, Reg (&c)[kGroups][4]) {
    const Reg m0 = W::set1(kM0), m1 = W::set1(kM1);
    // Round 1 has c2 = c3 = 0: no second product, and word 1 becomes 0.
    _Pragma("GCC unroll 8") for (int g = 0; g < kGroups; ++g) {
      const Reg counter = W::counter(b + W::kLanes * g);
      const Reg p0 = W::mul(counter, m0);
      c[g][0] = W::xor3(W::high(counter), W::set1(k0), W::zero());
      c[g][1] = W::zero();
      c[g][2] = W::xor3(W::high(p0), W::set1(k1), W::zero());
      c[g][3] = p0;
    }
    _Pragma("GCC unroll 9") for (int r = 1; r < 10; ++r) {
      k0 += kW0;
      k1 += kW1;
      const Reg key0 = W::set1(k0), key1 = W::set1(k1);
      _Pragma("GCC unroll 8") for (int g = 0; g < kGroups; ++g) {
        const Reg p0 = W::mul(c[g][0], m0), p1 = W::mul(c[g][2], m1);
        c[g][0] = W::xor3(W::high(p1), c[g][1], key0);
        c[g][2] = W::xor3(W::high(p0), c[g][3], key1);
        c[g][1] = p1;
        c[g][3] = p0;
      }
    }
  }

  static void words(int64_t b, uint32_t k0, uint32_t k1, uint32_t (&c)[4][kBlocks]) {
    Reg w[kGroups][4];
    rounds(b, k0, k1, w);
    for (int g = 0; g < kGroups; ++g) {
      for (int j = 0; j < 4; ++j) W::store_words(c[j] + W::kLanes * g, w[g][j]);
    }
  }

  // The compiler's scattered scalar stores of LaneLoops' float32 took about half the fill's time.
  static void float32(int64_t b, uint32_t k0, uint32_t k1, float* out) {
    Reg w[kGroups][4];
    rounds(b, k0, k1, w);
    _Pragma("GCC unroll 8") for (int g = 0; g < kGroups; ++g) W::to_float32(w[g], out + 4 * W::kLanes * g);
  }
};

// Elements per block of a T draw: 4 float32 uniforms, or 2 float64 ones.
template <class T>
constexpr int64_t kPerBlock = sizeof(T) == 4 ? 4 : 2;

// Uniforms of one step of Lanes::kBlocks blocks from b into out (kBlocks * kPerBlock<T>).
template <class Lanes, class T>
inline void uniform_step(int64_t b, uint32_t k0, uint32_t k1, T* out) {
  if constexpr (sizeof(T) == 4) {
    Lanes::float32(b, k0, k1, out);
  } else {
    uint32_t c[4][Lanes::kBlocks];
    Lanes::words(b, k0, k1, c);
    for (int l = 0; l < Lanes::kBlocks; ++l) {
      out[2 * l] = words_to_float64(c[0][l], c[1][l]);
      out[2 * l + 1] = words_to_float64(c[2][l], c[3][l]);
    }
  }
}

// The first m uniforms of the stream from block b0 on into dst, Lanes::kBlocks blocks a step
// (Lanes: LaneLoops or an ISA's vector version). A last, partial step is drawn whole into a
// scratch buffer: its unused blocks cost less than drawing them one at a time (a lone block runs
// its ten rounds as a latency chain), and it leaves kBlocks free to fit the registers.
template <class Lanes, class T>
inline void uniform_blocks(int64_t b0, uint32_t k0, uint32_t k1, T* dst, int64_t m) {
  constexpr int64_t kStep = Lanes::kBlocks * kPerBlock<T>;
  int64_t i = 0;
  for (; i + kStep <= m; i += kStep) uniform_step<Lanes>(b0 + i / kPerBlock<T>, k0, k1, dst + i);
  if (i < m) {
    alignas(64) T scratch[kStep];
    uniform_step<Lanes>(b0 + i / kPerBlock<T>, k0, k1, scratch);
    std::copy(scratch, scratch + (m - i), dst + i);
  }
}

// Elements per chunk of a kernel that draws its uniforms into an L1 buffer and uses them at
// once: whole steps of Lanes, about 4 KiB of float32.
template <class Lanes>
constexpr int64_t kChunkOf = Lanes::kBlocks * 4 * (1024 / (Lanes::kBlocks * 4) > 0 ? 1024 / (Lanes::kBlocks * 4) : 1);

}  // namespace

}  // namespace keras::cpu::philox
