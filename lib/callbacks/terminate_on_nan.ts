/**
 * keras.callbacks.TerminateOnNaN: stop training when a batch loss is NaN or infinite.
 */
import { Callback, type Logs } from './callback.js';
import { printMsg } from './early_stopping.js';

/** Sets `model.stopTraining` after the first batch whose loss is NaN or +-Infinity. */
export class TerminateOnNaN extends Callback {
  override onTrainBatchEnd(batch: number, logs: Logs = {}): void {
    const loss = logs.loss;
    if (loss !== undefined && loss !== null && !Number.isFinite(loss)) {
      printMsg(`Batch ${batch}: Invalid loss, terminating training`);
      this.model.stopTraining = true;
    }
  }
}
