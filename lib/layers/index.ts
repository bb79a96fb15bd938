/**
 * keras.layers.
 */
export { Layer, type CallOptions, type LayerArgs } from './layer.js';
export { InputLayer } from '../models/input.js';
export * from './core/dense.js';
export * from './core/basic.js';
export * from './convolutional/conv.js';
export * from './pooling/pooling.js';
export * from './core/embedding.js';
export * from './core/einsum_dense.js';
export * from './merging/merging.js';
export * from './merging/concatenate.js';
export * from './merging/dot.js';
export * from './activations/activations.js';
export * from './normalization/batch_normalization.js';
export * from './normalization/layer_normalization.js';
export * from './rnn/base_rnn.js';
export * from './rnn/simple_rnn.js';
export * from './rnn/lstm.js';
export * from './rnn/gru.js';
export * from './rnn/bidirectional.js';
export * from './attention/multi_head_attention.js';
