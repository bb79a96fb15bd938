// Which instruction-set path the CPU kernels use. Chosen once by cpuid, capped
// by KERAS_CPU_ISA=avx512|avx2|portable, and switchable at run time for tests.
#pragma once
#include <string>
#include <vector>

#include "isa_kernels.h"

namespace keras::cpu {

// ISAs this machine can run, best first; "portable" is always last.
std::vector<std::string> available_isas();
// The table in use now.
const IsaKernelTable& active_kernels();
// Switches the path; throws std::invalid_argument for unknown names or ISAs
// this CPU lacks.
void set_isa(const std::string& name);

}  // namespace keras::cpu
