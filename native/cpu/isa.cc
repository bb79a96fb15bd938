#include "isa.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "../engine/cpu_info.h"

namespace keras::cpu {
namespace {

const IsaKernelTable* table_for(const std::string& name) {
  if (name == "avx512") return &kAvx512Kernels;
  if (name == "avx2") return &kAvx2Kernels;
  if (name == "portable") return &kPortableKernels;
  return nullptr;
}

bool cpu_supports(const std::string& name) {
  const auto& info = engine::cpu_info();
  if (name == "avx512") return info.has_avx512;
  if (name == "avx2") return info.has_avx2_fma;
  return name == "portable";
}

const IsaKernelTable* initial_table() {
  std::vector<std::string> isas = available_isas();
  std::string choice = isas.front();
  if (const char* forced = std::getenv("KERAS_CPU_ISA")) {
    std::string want = forced;
    if (table_for(want) == nullptr) {
      // An unknown name is a configuration mistake, but failing to load the
      // addon for it would be worse: warn once and keep the best path.
      std::fprintf(stderr, "keras-node: ignoring KERAS_CPU_ISA=%s (expected avx512, avx2 or portable)\n", forced);
    } else {
      // A forced ISA the CPU lacks is capped to the best one it has below it.
      bool reached = false;
      for (const auto& isa : std::vector<std::string>{"avx512", "avx2", "portable"}) {
        if (isa == want) reached = true;
        if (reached && cpu_supports(isa)) {
          choice = isa;
          break;
        }
      }
    }
  }
  return table_for(choice);
}

std::atomic<const IsaKernelTable*>& active_table() {
  static std::atomic<const IsaKernelTable*> table{initial_table()};
  return table;
}

}  // namespace

std::vector<std::string> available_isas() {
  std::vector<std::string> isas;
  for (const char* isa : {"avx512", "avx2", "portable"}) {
    if (cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

const IsaKernelTable& active_kernels() { return *active_table().load(std::memory_order_acquire); }

void set_isa(const std::string& name) {
  const IsaKernelTable* table = table_for(name);
  if (!table) throw std::invalid_argument("setIsa: unknown ISA '" + name + "'; expected avx512, avx2 or portable");
  if (!cpu_supports(name)) throw std::invalid_argument("setIsa: this CPU does not support " + name);
  active_table().store(table, std::memory_order_release);
}

}  // namespace keras::cpu
