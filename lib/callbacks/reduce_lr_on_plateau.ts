/**
 * keras.callbacks.ReduceLROnPlateau: lower the learning rate when a metric has stopped improving.
 */
import { KerasError, ValueError } from '../errors.js';
import { Callback, type Logs } from './callback.js';
import { callbackArgs, printMsg, resolveMonitorMode, warnMissingMonitor, type MonitorMode } from './early_stopping.js';
import { pyRepr } from './progbar.js';

export interface ReduceLROnPlateauOptions {
  /** Quantity to monitor ('val_loss'). */
  monitor?: string;
  /** New learning rate = lr * factor; must be < 1 (0.1). */
  factor?: number;
  /** Epochs without improvement after which the rate is reduced (10). */
  patience?: number;
  /** 1 prints each reduction (0). */
  verbose?: number;
  /** 'min', 'max' or 'auto' (from the metric name) ('auto'). */
  mode?: MonitorMode;
  /** Threshold for measuring a new optimum (1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (0). */
  cooldown?: number;
  /** Lower bound on the learning rate (0). */
  minLr?: number;
}

const ORDER = ['monitor', 'factor', 'patience', 'verbose', 'mode', 'minDelta', 'cooldown', 'minLr'] as const;

/** Reads the optimizer's learning rate as a number; names the callback when there is none. */
export function currentLearningRate(owner: string, model: { optimizer?: { learningRate: number } | null }): number {
  const opt = model?.optimizer;
  if (!opt || !('learningRate' in opt)) throw new KerasError(`${owner}: the model has no optimizer with a learningRate; call compile() first`);
  return opt.learningRate;
}

/**
 * Multiplies the learning rate by `factor` once `monitor` has not improved for `patience`
 * epochs, as keras.callbacks.ReduceLROnPlateau. Adds `learning_rate` to the epoch logs.
 */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly verbose: number;
  readonly mode: MonitorMode;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  /** Epochs since the last improvement (outside cooldown). */
  wait = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** Best monitored value so far (+-Infinity before the first). */
  best = Infinity;
  private direction: 'min' | 'max' | null = null;

  constructor(options?: ReduceLROnPlateauOptions);
  constructor(monitor: string, options: Omit<ReduceLROnPlateauOptions, 'monitor'>);
  constructor(monitor?: string, factor?: number, patience?: number, verbose?: number, mode?: MonitorMode, minDelta?: number, cooldown?: number, minLr?: number);
  constructor(...args: unknown[]) {
    super();
    const o = callbackArgs<ReduceLROnPlateauOptions>('ReduceLROnPlateau', ORDER, args);
    this.monitor = o.monitor ?? 'val_loss';
    this.factor = o.factor ?? 0.1;
    if (!(this.factor < 1)) throw new ValueError(`ReduceLROnPlateau does not support a factor >= 1.0. Received factor=${this.factor}`);
    this.patience = o.patience ?? 10;
    this.verbose = o.verbose ?? 0;
    this.minDelta = o.minDelta ?? 1e-4;
    this.cooldown = o.cooldown ?? 0;
    this.minLr = o.minLr ?? 0;
    let mode = o.mode ?? 'auto';
    if (!['auto', 'min', 'max'].includes(mode)) {
      process.emitWarning(`Learning rate reduction mode ${mode} is unknown, fallback to auto mode.`);
      mode = 'auto';
    }
    this.mode = mode;
  }

  private reset(): void {
    this.direction = resolveMonitorMode(this.monitor, this.mode, this.model);
    this.best = this.direction === 'min' ? Infinity : -Infinity;
    this.cooldownCounter = 0;
    this.wait = 0;
  }

  /** True while waiting out the cooldown after a reduction. */
  inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  override onTrainBegin(_logs?: Logs): void {
    this.reset();
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    if (this.direction === null) this.reset();
    logs.learning_rate = currentLearningRate('ReduceLROnPlateau', this.model);
    const current = logs[this.monitor];
    if (current === undefined || current === null) {
      warnMissingMonitor('Learning rate reduction is', this.monitor, logs);
      return;
    }
    if (this.inCooldown()) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.isImprovement(current)) {
      this.best = current;
      this.wait = 0;
    } else if (!this.inCooldown()) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        const oldLr = logs.learning_rate;
        // Compared as float32, the optimizer's precision.
        if (Math.fround(oldLr) > Math.fround(this.minLr)) {
          this.model.optimizer!.learningRate = Math.max(oldLr * this.factor, this.minLr);
          if (this.verbose > 0) printMsg(`\nEpoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${pyRepr(this.model.optimizer!.learningRate)}.`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }

  private isImprovement(current: number): boolean {
    return this.direction === 'min' ? current < this.best - this.minDelta : current > this.best + this.minDelta;
  }
}
