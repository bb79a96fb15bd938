/**
 * keras-node: the Keras 3 programming model for Node.js.
 *
 * ```ts
 * import * as keras from 'keras-node';
 * const x = keras.ops.ones([2, 3]);
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

export { ops, Tensor, Variable, GradientTape, grad, valueAndGrad, tidy, keep, memory, trace, Graph, errors };
export type { DType, TypedArray } from './dtype.js';
export type { Dim, Shape } from './shape.js';
export { KerasError, ShapeError, DTypeError, ValueError, GradientError } from './errors.js';

/** Graph IR utilities. */
export const ir = { trace, differentiate: differentiateGraph, evaluate: evaluateGraph, run: runGraph, Graph };

/** Global configuration, as keras.config. */
export const config = {
  setBackend,
  backend: backendName,
  availableBackends: backendNames,
  getBackend,
};

/** keras.backend helpers. */
export const backend = { resultType };

export { stopGradient } from './ops/elementwise.js';
