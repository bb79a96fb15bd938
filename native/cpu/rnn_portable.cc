// portable instantiation of the LSTM cell rows (rnn_kernels.h). Built with this ISA's flags;
// called only after cpuid says yes.
#include "simd/simd_portable.h"
#include "rnn_kernels.h"

namespace keras::cpu {

constexpr RnnIsaTable kRnnPortableTable = make_rnn_table<portable::Isa>("portable");
const RnnIsaTable kRnnPortable = kRnnPortableTable;

}  // namespace keras::cpu
