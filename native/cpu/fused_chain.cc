// The cpu runner of fused elementwise chains (planned by engine/executor.cc): the
// output is walked in tiles, and each member of the chain runs the active ISA's
// row function on one tile, reading its operands from memory or from the tiles
// of earlier members, so intermediates never leave the cache. A member with a
// store writes its tile there instead of to scratch, and later members read it
// from there.
#include <algorithm>
#include <vector>

#include "../engine/cpu_info.h"
#include "../engine/thread_pool.h"
#include "cpu_kernels.h"
#include "isa.h"
#include "loop_nest.h"
#include "workspace.h"

namespace keras::cpu {
namespace {

// Bytes of one tile per intermediate: a chain of ~10 ops keeps its tiles in L2,
// and the operands of one op in L1.
constexpr int64_t kTileBytes = 8192;
// Tiles per work item of the thread pool (about 64 KiB of each operand).
constexpr int64_t kTilesPerItem = 8;

// This thread's tiles for a chain's intermediates, never cleared (each member writes its
// tile before the next reads it). A fresh zeroed vector per work item, 8 KiB a member, was
// a fifth of a small model's train step (memset, and malloc's slow path).
thread_local Workspace t_tiles;

void run_fused_chain(const std::vector<kernels::FusedMember>& chain, const kernels::TensorView& out) {
  const ElementwiseTable& table = *active_kernels().elementwise;
  const int dt = int(out.dtype);
  const int64_t esize = int64_t(engine::dtype_size(out.dtype));
  const int64_t n = out.numel();
  // Tiles of whole rows when an operand is a row (plan_fusion keeps rows short beside a tile):
  // every tile then starts on a row, and the row repeated over one tile serves them all.
  int64_t row = 1;
  for (const auto& m : chain) row = std::max({row, m.period[0], m.period[1], m.period[2]});
  const int64_t tile = kTileBytes / esize / row * row;
  const int64_t tiles = (n + tile - 1) / tile;
  std::vector<std::vector<char>> repeated(chain.size() * 3);
  for (size_t i = 0; i < chain.size(); ++i) {
    for (int k = 0; k < chain[i].operands(); ++k) {
      const int64_t p = chain[i].period[k];
      if (!chain[i].data[k] || p <= 1) continue;
      // As many rows as a tile reads: a small output (n, whole rows too) fills only its own.
      repeated[3 * i + size_t(k)] = loops::repeated_row(chain[i].data[k], p * esize, std::min(tile, n) * esize);
    }
  }
  char* out_base = static_cast<char*>(out.data);
  const size_t last = chain.size() - 1;
  // An output larger than the last-level cache: a final binary member writes it around the caches
  // (streaming stores; tanh(a) * b and a * b + c at 64 MiB: 0.91x to 0.96x the CPU time).
  const bool stream = engine::past_last_level_cache(n * esize);
  engine::thread_pool().parallel_for(tiles, kTilesPerItem, [&](int64_t begin, int64_t end) {
    // One tile per member (the final one writes to the output instead).
    // A line of slack past the last tile, as the vector had.
    char* temps = static_cast<char*>(t_tiles.get(size_t(int64_t(chain.size()) * tile * esize) + 64));
    auto tile_of = [&](size_t i, int64_t start) -> char* {
      char* store = static_cast<char*>(chain[i].store);
      return store ? store + start * esize : temps + int64_t(i) * tile * esize;
    };
    for (int64_t t = begin; t < end; ++t) {
      const int64_t start = t * tile;
      const int64_t count = std::min(tile, n - start);
      // Operand k of member i and its step: a tile of an earlier member, a run of memory, a
      // scalar, or a row repeated over the tile. A where's condition is bools (1 byte each).
      auto operand = [&](size_t i, int k, int64_t* step) -> const void* {
        const kernels::FusedMember& m = chain[i];
        *step = m.period[k] == 1 ? 0 : 1;
        if (!m.data[k]) return tile_of(size_t(m.member[k]), start);
        if (m.period[k] > 1) return repeated[3 * i + size_t(k)].data();
        const int64_t size = m.kind == kernels::FusedMember::Kind::Where && k == 0 ? 1 : esize;
        return static_cast<const char*>(m.data[k]) + (m.period[k] == 1 ? 0 : start * size);
      };
      for (size_t i = 0; i < chain.size(); ++i) {
        const kernels::FusedMember& m = chain[i];
        const bool final_member = i == last;
        void* dst = final_member ? static_cast<void*>(out_base + start * esize) : static_cast<void*>(tile_of(i, start));
        int64_t step[3] = {0, 0, 0};
        const void* a = operand(i, 0, &step[0]);
        if (m.kind == kernels::FusedMember::Kind::Unary) {
          table.unary[m.op][dt](count, a, step[0], dst, false);  // tiles: in cache
        } else if (m.kind == kernels::FusedMember::Kind::Binary) {
          // A comparison writes its bools into its tile (never the last member).
          const void* b = operand(i, 1, &step[1]);
          table.binary[m.op][dt](count, a, step[0], b, step[1], dst, final_member && stream);
        } else {
          const void* x = operand(i, 1, &step[1]);
          const void* y = operand(i, 2, &step[2]);
          table.where[dt][step[0] * 4 + step[1] * 2 + step[2]](count, static_cast<const uint8_t*>(a), x, y, dst);
        }
      }
    }
  });
}

}  // namespace

void register_fused_chain(kernels::KernelRegistry& registry) {
  registry.register_fused_chain(engine::Device::CPU, run_fused_chain);
}

}  // namespace keras::cpu
