/**
 * keras.callbacks.
 */
export { Callback, CallbackList, History, type Logs, type CallbackParams } from './callback.js';
export { ProgbarLogger, Progbar } from './progbar.js';
