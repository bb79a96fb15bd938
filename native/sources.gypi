# Source lists of the native addon, read by binding.gyp and by CMakeLists.txt.
{
  "variables": {
    "keras_engine_sources": [
      "native/engine/allocator.cc",
      "native/engine/cpu_info.cc",
      "native/engine/tensor.cc",
      "native/engine/thread_pool.cc",
    ],
    "keras_kernels_sources": [
      "native/kernels/elementwise.cc",
      "native/kernels/kernel.cc",
      "native/kernels/matmul.cc",
      "native/kernels/conv.cc",
      "native/kernels/pool.cc",
      "native/kernels/shape.cc",
      "native/kernels/creation.cc",
      "native/kernels/indexing.cc",
      "native/kernels/random.cc",
    ],
    "keras_cpu_sources": [
      "native/cpu/elementwise.cc",
      "native/cpu/gemm.cc",
      "native/cpu/isa.cc",
      "native/cpu/matmul.cc",
      "native/cpu/peak.cc",
      "native/cpu/conv.cc",
      "native/cpu/pool.cc",
      "native/cpu/reduction.cc",
      "native/cpu/shape.cc",
      "native/cpu/creation.cc",
      "native/cpu/indexing.cc",
      "native/cpu/random.cc",
    ],
    "keras_cpu_avx512_sources": ["native/cpu/isa_avx512.cc", "native/cpu/elementwise_avx512.cc", "native/cpu/conv_avx512.cc"],
    "keras_cpu_avx2_sources": ["native/cpu/isa_avx2.cc", "native/cpu/elementwise_avx2.cc", "native/cpu/conv_avx2.cc"],
    "keras_cpu_portable_sources": ["native/cpu/isa_portable.cc", "native/cpu/elementwise_portable.cc", "native/cpu/conv_portable.cc"],
    "keras_binding_sources": [
      "native/binding/addon.cc",
      "native/binding/tensor_handle.cc",
    ],
  },
}
