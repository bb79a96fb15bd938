// Registers every CPU kernel with the device-neutral table.
#pragma once
#include "../kernels/kernel.h"

namespace keras::cpu {

void register_cpu_kernels(kernels::KernelRegistry& registry);

// One registration function per kernel family file.
void register_matmul(kernels::KernelRegistry& registry);
void register_elementwise(kernels::KernelRegistry& registry);
void register_reductions(kernels::KernelRegistry& registry);
void register_conv(kernels::KernelRegistry& registry);
void register_pool(kernels::KernelRegistry& registry);
void register_shape(kernels::KernelRegistry& registry);
void register_creation(kernels::KernelRegistry& registry);
void register_indexing(kernels::KernelRegistry& registry);
void register_random(kernels::KernelRegistry& registry);
void register_linalg(kernels::KernelRegistry& registry);
void register_softmax(kernels::KernelRegistry& registry);
void register_norm(kernels::KernelRegistry& registry);
void register_batch_norm(kernels::KernelRegistry& registry);
void register_rnn(kernels::KernelRegistry& registry);
void register_optimizer(kernels::KernelRegistry& registry);
void register_fused_chain(kernels::KernelRegistry& registry);  // fused_chain.cc

}  // namespace keras::cpu
