// Which instruction-set path the CPU kernels use. Chosen once by cpuid, capped
// by KERAS_CPU_ISA=avx512|avx2|portable, and switchable at run time for tests.
#pragma once
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "isa_kernels.h"

namespace keras::cpu {

// ISAs this machine can run, best first; "portable" is always last.
std::vector<std::string> available_isas();
// The table in use now.
const IsaKernelTable& active_kernels();
// Of a kernel family's three per-ISA tables (or functions), the one of the active path.
template <class T>
const T& for_active_isa(const T& avx512, const T& avx2, const T& portable) {
  const std::string_view isa = active_kernels().isa;
  return isa == "avx512" ? avx512 : isa == "avx2" ? avx2 : portable;
}

// A family table's rows for element type T: its f32 or f64 member.
template <class T, class Table>
const auto& rows_of(const Table& table) {
  if constexpr (std::is_same_v<T, float>) return table.f32;
  else return table.f64;
}

// Switches the path; throws std::invalid_argument for unknown names or ISAs
// this CPU lacks.
void set_isa(const std::string& name);

}  // namespace keras::cpu
