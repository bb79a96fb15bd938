/**
 * Callbacks: hooks into fit / evaluate / predict, as keras.callbacks.Callback.
 */
import type { Trainer } from '../models/trainer.js';

/** Metric values by name, as numbers (Keras' `logs` dict). */
export type Logs = Record<string, number>;

/** Training parameters handed to callbacks (`this.params`). */
export interface CallbackParams {
  epochs: number;
  steps: number | null;
  verbose: number;
}

export class Callback {
  /** The model being trained; set by fit/evaluate/predict. */
  model!: Trainer;
  params: CallbackParams = { epochs: 1, steps: null, verbose: 1 };

  setModel(model: Trainer): void {
    this.model = model;
  }

  setParams(params: CallbackParams): void {
    this.params = params;
  }

  onTrainBegin(_logs?: Logs): void | Promise<void> {}
  onTrainEnd(_logs?: Logs): void | Promise<void> {}
  onEpochBegin(_epoch: number, _logs?: Logs): void | Promise<void> {}
  onEpochEnd(_epoch: number, _logs?: Logs): void | Promise<void> {}
  onTrainBatchBegin(_batch: number, _logs?: Logs): void | Promise<void> {}
  onTrainBatchEnd(_batch: number, _logs?: Logs): void | Promise<void> {}
  onTestBegin(_logs?: Logs): void | Promise<void> {}
  onTestEnd(_logs?: Logs): void | Promise<void> {}
  onTestBatchBegin(_batch: number, _logs?: Logs): void | Promise<void> {}
  onTestBatchEnd(_batch: number, _logs?: Logs): void | Promise<void> {}
  onPredictBegin(_logs?: Logs): void | Promise<void> {}
  onPredictEnd(_logs?: Logs): void | Promise<void> {}
  onPredictBatchBegin(_batch: number, _logs?: Logs): void | Promise<void> {}
  onPredictBatchEnd(_batch: number, _logs?: Logs): void | Promise<void> {}
}

type Hook = Exclude<keyof Callback, 'model' | 'params' | 'setModel' | 'setParams'>;

/** Calls each hook on every callback in order, awaiting async ones. */
export class CallbackList {
  constructor(readonly callbacks: Callback[]) {}

  setModel(model: Trainer): void {
    for (const c of this.callbacks) c.setModel(model);
  }

  setParams(params: CallbackParams): void {
    for (const c of this.callbacks) c.setParams(params);
  }

  async call(hook: Hook, ...args: unknown[]): Promise<void> {
    for (const c of this.callbacks) {
      const fn = c[hook] as (...a: unknown[]) => void | Promise<void>;
      const r = fn.apply(c, args);
      if (r && typeof (r as Promise<void>).then === 'function') await r;
    }
  }
}

/** Records epoch logs: `history.history.loss[epoch]`. Returned by fit. */
export class History extends Callback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};

  override onTrainBegin(): void {
    this.epoch = [];
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}
