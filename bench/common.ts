/** Helpers shared by the benchmarks: medians, reproducible inputs, the MLP every training figure uses. */
import * as keras from '../lib/index.js';

const { ops, layers } = keras;

/** The median (upper median for even lengths) of xs; every figure in bench/ is one. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Reproducible uniform values in [-1, 1) from a xorshift32 stream seeded by `seed`. */
export function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Integer class labels 0..classes-1 in a fixed pattern. */
export function labels(n: number, classes: number): keras.Tensor {
  return ops.convertToTensor(Int32Array.from({ length: n }, (_, i) => (i * 7) % classes));
}

/** The MLP 784-512-512-10 (relu) of the train and executor benchmarks. */
export function mlp(): keras.Sequential {
  return new keras.Sequential([keras.Input({ shape: [784] }), new layers.Dense(512, { activation: 'relu' }), new layers.Dense(512, { activation: 'relu' }), new layers.Dense(10)]);
}

/** Compiles a model the way every training benchmark does: Adam 1e-3, sparse categorical cross-entropy from logits. */
export function compileForBench(model: keras.Model): void {
  model.compile({ optimizer: new keras.optimizers.Adam(1e-3), loss: new keras.losses.SparseCategoricalCrossentropy({ fromLogits: true }) });
}

/**
 * The environment for a Python child (numpy, PyTorch): this process's, less the OPENBLAS_CORETYPE
 * and OPENBLAS_L2_SIZE this machine may pin for old OpenBLAS builds (pinned to Haswell, a
 * current OpenBLAS runs AVX2 kernels on an AVX-512 CPU, and PyTorch over it too), plus `extra`.
 */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}
