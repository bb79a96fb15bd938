/**
 * keras.callbacks.LearningRateScheduler: set the learning rate from a function of the epoch.
 */
import { ValueError } from '../errors.js';
import { Callback, type Logs } from './callback.js';
import { printMsg } from './early_stopping.js';
import { pyRepr } from './progbar.js';
import { currentLearningRate } from './reduce_lr_on_plateau.js';

/** `(epoch, lr) => newLr`: epoch is 0-based, lr the current rate; may be async. */
export type LearningRateScheduleFn = (epoch: number, lr: number) => number | Promise<number>;

/**
 * At the start of every epoch sets `model.optimizer.learningRate` to `schedule(epoch, lr)`,
 * as keras.callbacks.LearningRateScheduler. Adds `learning_rate` to the epoch logs.
 */
export class LearningRateScheduler extends Callback {
  readonly schedule: LearningRateScheduleFn;
  readonly verbose: number;

  constructor(schedule: LearningRateScheduleFn, verbose?: number | { verbose?: number }) {
    super();
    if (typeof schedule !== 'function') throw new ValueError(`LearningRateScheduler: schedule must be a function (epoch, lr) => number, received ${typeof schedule}`);
    this.schedule = schedule;
    this.verbose = (typeof verbose === 'object' && verbose !== null ? verbose.verbose : verbose) ?? 0;
  }

  override async onEpochBegin(epoch: number, _logs?: Logs): Promise<void> {
    const lr = currentLearningRate('LearningRateScheduler', this.model);
    const next = await this.schedule(epoch, lr);
    if (typeof next !== 'number' || !Number.isFinite(next)) {
      throw new ValueError(`LearningRateScheduler: the output of the schedule function should be a finite number. Got: ${String(next)} at epoch ${epoch}`);
    }
    this.model.optimizer!.learningRate = next;
    if (this.verbose > 0) printMsg(`\nEpoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${pyRepr(next)}.`);
  }

  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    logs.learning_rate = currentLearningRate('LearningRateScheduler', this.model);
  }
}
