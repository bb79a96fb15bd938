/**
 * The public API of keras-node (re-exported by index.ts as named and default exports).
 *
 * ```ts
 * import * as keras from 'keras-node';
 * const model = new keras.Sequential([keras.layers.Dense(10, { activation: 'softmax' })]);
 * ```
 */
import './backends/index.js';
import * as ops from './ops/index.js';
import { backendName, backendNames, getBackend, keep, memory, setBackend, tidy } from './engine.js';
import { GradientTape } from './autodiff/tape.js';
import { grad, valueAndGrad } from './autodiff/grad.js';
import { trace } from './ir/trace.js';
import { differentiateGraph, evaluateGraph, runGraph } from './ir/execute.js';
import { Graph } from './ir/graph.js';
import { Tensor } from './tensor.js';
import { Variable } from './variable.js';
import * as errors from './errors.js';
import { resultType } from './dtype.js';
import * as random from './random/index.js';
import * as layers from './layers/index.js';
import * as activations from './activations/index.js';
import * as initializers from './initializers/index.js';
import * as regularizers from './regularizers/index.js';
import * as constraints from './constraints/index.js';
import * as losses from './losses/index.js';
import * as metrics from './metrics/index.js';
import * as optimizers from './optimizers/index.js';
import * as callbacks from './callbacks/index.js';
import * as datasets from './datasets/index.js';
import { Model } from './models/model.js';
import { Sequential } from './models/sequential.js';
import { Input } from './models/input.js';
import { setRandomSeed } from './random/index.js';

export {
  ops, Tensor, Variable, GradientTape, grad, valueAndGrad, tidy, keep, memory, trace, Graph, errors, random,
  layers, activations, initializers, regularizers, constraints, losses, metrics, optimizers, callbacks, datasets,
  Model, Sequential, Input,
};
export type { DType, TypedArray } from './dtype.js';
export type { Dim, Shape } from './shape.js';
export { KerasError, ShapeError, DTypeError, ValueError, GradientError, ResourceExhaustedError } from './errors.js';

/** Graph IR utilities: trace, differentiate, evaluate and run graphs. */
export const ir = { trace, differentiate: differentiateGraph, evaluate: evaluateGraph, run: runGraph, Graph };

/** Global configuration, as keras.config. */
export const config = {
  setBackend,
  backend: backendName,
  availableBackends: backendNames,
  getBackend,
  /** Facts about a backend (current by default): for `cpu` the ISA path, threads, CPU, build, and which ops are native. */
  backendInfo: (name?: string): Record<string, unknown> => { const b = getBackend(name) as ReturnType<typeof getBackend> & { backendInfo?: () => object }; return { backend: b.name, kernels: b.kernelNames().length, ...b.backendInfo?.() }; },
};

/** keras.backend helpers. */
export const backend = { resultType };

/** keras.utils. */
export const utils = { setRandomSeed };

export { stopGradient } from './ops/elementwise.js';
