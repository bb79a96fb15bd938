/**
 * keras.activations: activation functions by name, for layers' `activation` argument.
 */
import { ValueError } from '../errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';

export type Activation = (x: Tensor) => Tensor;
export type ActivationLike = string | Activation | null | undefined;

export const linear: Activation = (x) => x;
export const relu: Activation = (x) => ops.relu(x);
export const relu6: Activation = (x) => ops.relu6(x);
export const sigmoid: Activation = (x) => ops.sigmoid(x);
export const tanh: Activation = (x) => ops.tanh(x);
export const softmax: Activation = (x) => ops.softmax(x, -1);
export const logSoftmax: Activation = (x) => ops.logSoftmax(x, -1);
export const softplus: Activation = (x) => ops.softplus(x);
export const softsign: Activation = (x) => ops.softsign(x);
export const silu: Activation = (x) => ops.silu(x);
export const gelu: Activation = (x) => ops.gelu(x, false);
export const elu: Activation = (x) => ops.elu(x);
export const selu: Activation = (x) => ops.selu(x);
export const leakyRelu: Activation = (x) => ops.leakyRelu(x);
export const hardSigmoid: Activation = (x) => ops.hardSigmoid(x);
export const hardSilu: Activation = (x) => ops.hardSilu(x);
export const exponential: Activation = (x) => ops.exp(x);
/** mish(x) = x * tanh(softplus(x)). */
export const mish: Activation = (x) => ops.multiply(x, ops.tanh(ops.softplus(x)));

const BY_NAME: Record<string, Activation> = {
  linear, relu, relu6, sigmoid, tanh, softmax, log_softmax: logSoftmax, softplus, softsign, silu, swish: silu,
  gelu, elu, selu, leaky_relu: leakyRelu, hard_sigmoid: hardSigmoid, hard_silu: hardSilu, hard_swish: hardSilu,
  exponential, mish,
};

/** Keras' serialized name of an activation function. */
export function serialize(fn: Activation): string {
  for (const [name, f] of Object.entries(BY_NAME)) if (f === fn) return name;
  return fn.name || 'custom';
}

/**
 * Resolves an activation: Keras snake_case or camelCase name, a function, or null/undefined (linear).
 */
export function get(identifier: ActivationLike): Activation {
  if (identifier === null || identifier === undefined) return linear;
  if (typeof identifier === 'function') return identifier;
  const key = identifier.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const fn = BY_NAME[key];
  if (!fn) throw new ValueError(`Unknown activation "${identifier}"; known: ${Object.keys(BY_NAME).join(', ')}`);
  return fn;
}
