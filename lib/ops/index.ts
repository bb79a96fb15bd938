/**
 * keras.ops: the Keras 3 op surface, camelCased. Importing this module registers
 * every primitive op.
 */
export * from './elementwise.js';
export * from './reduction.js';
export * from './shape.js';
export * from './indexing.js';
export * from './creation.js';
export * from './linalg.js';
export * from './nn.js';
export { convertToTensor, type TensorLike } from './common.js';
// Registers the internal primitives: the fused LSTM and GRU cells and the fused Adam update (the
// layers and Adam import their functions).
import './rnn.js';
import './optimizer.js';
