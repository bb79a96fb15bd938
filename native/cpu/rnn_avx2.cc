// avx2 instantiation of the LSTM cell rows (rnn_kernels.h). Built with this ISA's flags;
// called only after cpuid says yes.
#include "simd/simd_avx2.h"
#include "rnn_kernels.h"

namespace keras::cpu {

constexpr RnnIsaTable kRnnAvx2Table = make_rnn_table<avx2::Isa>("avx2");
const RnnIsaTable kRnnAvx2 = kRnnAvx2Table;

}  // namespace keras::cpu
