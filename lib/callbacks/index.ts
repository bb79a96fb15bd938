/**
 * keras.callbacks.
 */
export { Callback, CallbackList, History, type Logs, type CallbackParams } from './callback.js';
export { ProgbarLogger, Progbar } from './progbar.js';
export { EarlyStopping, type EarlyStoppingOptions, type MonitorMode } from './early_stopping.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce_lr_on_plateau.js';
export { LearningRateScheduler, type LearningRateScheduleFn } from './learning_rate_scheduler.js';
export { TerminateOnNaN } from './terminate_on_nan.js';
export { CSVLogger } from './csv_logger.js';
export { LambdaCallback, type LambdaCallbackOptions } from './lambda_callback.js';
export { type ProgbarOptions } from './progbar.js';
