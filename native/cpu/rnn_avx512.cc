// avx512 instantiation of the LSTM cell rows (rnn_kernels.h). Built with this ISA's flags;
// called only after cpuid says yes.
#include "simd/simd_avx512.h"
#include "rnn_kernels.h"

namespace keras::cpu {

constexpr RnnIsaTable kRnnAvx512Table = make_rnn_table<avx512::Isa>("avx512");
const RnnIsaTable kRnnAvx512 = kRnnAvx512Table;

}  // namespace keras::cpu
