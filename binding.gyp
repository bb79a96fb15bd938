# The CPU addon. The source lists live in native/sources.gypi, shared with
# CMakeLists.txt. Each ISA's kernels are a static library with its own flags;
# the addon picks one at load time by cpuid, so one binary runs on any x86-64.
{
  "includes": ["native/sources.gypi"],
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags": ["-O3", "-fPIC", "-fvisibility=hidden"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
  },
  "targets": [
    {
      "target_name": "keras_cpu_avx512",
      "type": "static_library",
      "sources": ["<@(keras_cpu_avx512_sources)"],
      "cflags": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma",
                 # GCC 12 false positive inside its own _mm512_sqrt_ps/pd.
                 "-Wno-maybe-uninitialized"],
    },
    {
      "target_name": "keras_cpu_avx2",
      "type": "static_library",
      "sources": ["<@(keras_cpu_avx2_sources)"],
      "cflags": ["-mavx2", "-mfma"],
    },
    {
      "target_name": "keras_cpu_portable",
      "type": "static_library",
      "sources": ["<@(keras_cpu_portable_sources)"],
    },
    {
      "target_name": "keras_native",
      "sources": ["<@(keras_engine_sources)", "<@(keras_kernels_sources)", "<@(keras_cpu_sources)",
                  "<@(keras_binding_sources)"],
      "dependencies": ["keras_cpu_avx512", "keras_cpu_avx2", "keras_cpu_portable"],
      "defines": ["KERAS_BUILD_SYSTEM=\"node-gyp\""],
    },
  ],
}
