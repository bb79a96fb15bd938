/**
 * keras-node: the Keras 3 programming model for Node.js.
 *
 * ```ts
 * import keras from 'keras-node';            // or: import * as keras from 'keras-node';
 * const model = new keras.Sequential([new keras.layers.Dense(10, { activation: 'softmax' })]);
 * ```
 */
import * as api from './api.js';

export * from './api.js';
/** The default export and the named exports are the same API. */
export default api;
