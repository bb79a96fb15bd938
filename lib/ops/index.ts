/**
 * keras.ops: the Keras 3 op surface, camelCased. Importing this module registers
 * every primitive op.
 */
export * from './elementwise.js';
export * from './reduction.js';
export * from './shape.js';
export { convertToTensor, type TensorLike } from './common.js';
