/**
 * keras.callbacks.LambdaCallback: a callback built from plain functions.
 */
import { ValueError } from '../errors.js';
import { Callback, type Logs } from './callback.js';

type BatchFn = (batch: number, logs: Logs) => void | Promise<void>;
type EpochFn = (epoch: number, logs: Logs) => void | Promise<void>;
type LogsFn = (logs: Logs) => void | Promise<void>;

/** Any hook of Callback as a function; `onBatchBegin` / `onBatchEnd` are Keras' aliases of the train-batch hooks. */
export interface LambdaCallbackOptions {
  onEpochBegin?: EpochFn;
  onEpochEnd?: EpochFn;
  onTrainBegin?: LogsFn;
  onTrainEnd?: LogsFn;
  onTrainBatchBegin?: BatchFn;
  onTrainBatchEnd?: BatchFn;
  onBatchBegin?: BatchFn;
  onBatchEnd?: BatchFn;
  onTestBegin?: LogsFn;
  onTestEnd?: LogsFn;
  onTestBatchBegin?: BatchFn;
  onTestBatchEnd?: BatchFn;
  onPredictBegin?: LogsFn;
  onPredictEnd?: LogsFn;
  onPredictBatchBegin?: BatchFn;
  onPredictBatchEnd?: BatchFn;
}

const HOOKS = new Set(['onEpochBegin', 'onEpochEnd', 'onTrainBegin', 'onTrainEnd', 'onTrainBatchBegin', 'onTrainBatchEnd', 'onBatchBegin', 'onBatchEnd', 'onTestBegin', 'onTestEnd', 'onTestBatchBegin', 'onTestBatchEnd', 'onPredictBegin', 'onPredictEnd', 'onPredictBatchBegin', 'onPredictBatchEnd']);

/**
 * Calls the given functions at the matching points of fit / evaluate / predict, as
 * keras.callbacks.LambdaCallback: `new LambdaCallback({onEpochEnd: (epoch, logs) => ...})`.
 * Async functions are awaited.
 */
export class LambdaCallback extends Callback {
  private readonly fns: LambdaCallbackOptions;

  constructor(options: LambdaCallbackOptions = {}) {
    super();
    for (const [k, v] of Object.entries(options)) {
      if (!HOOKS.has(k)) throw new ValueError(`LambdaCallback: unknown hook "${k}"; expected one of ${[...HOOKS].join(', ')}`);
      if (v !== undefined && typeof v !== 'function') throw new ValueError(`LambdaCallback: ${k} must be a function, received ${typeof v}`);
    }
    this.fns = { ...options };
    if (this.fns.onBatchBegin && this.fns.onTrainBatchBegin) throw new ValueError('LambdaCallback: pass onTrainBatchBegin or its alias onBatchBegin, not both');
    if (this.fns.onBatchEnd && this.fns.onTrainBatchEnd) throw new ValueError('LambdaCallback: pass onTrainBatchEnd or its alias onBatchEnd, not both');
  }

  override onEpochBegin(epoch: number, logs: Logs = {}): void | Promise<void> {
    return this.fns.onEpochBegin?.(epoch, logs);
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void | Promise<void> {
    return this.fns.onEpochEnd?.(epoch, logs);
  }
  override onTrainBegin(logs: Logs = {}): void | Promise<void> {
    return this.fns.onTrainBegin?.(logs);
  }
  override onTrainEnd(logs: Logs = {}): void | Promise<void> {
    return this.fns.onTrainEnd?.(logs);
  }
  override onTrainBatchBegin(batch: number, logs: Logs = {}): void | Promise<void> {
    return (this.fns.onTrainBatchBegin ?? this.fns.onBatchBegin)?.(batch, logs);
  }
  override onTrainBatchEnd(batch: number, logs: Logs = {}): void | Promise<void> {
    return (this.fns.onTrainBatchEnd ?? this.fns.onBatchEnd)?.(batch, logs);
  }
  override onTestBegin(logs: Logs = {}): void | Promise<void> {
    return this.fns.onTestBegin?.(logs);
  }
  override onTestEnd(logs: Logs = {}): void | Promise<void> {
    return this.fns.onTestEnd?.(logs);
  }
  override onTestBatchBegin(batch: number, logs: Logs = {}): void | Promise<void> {
    return this.fns.onTestBatchBegin?.(batch, logs);
  }
  override onTestBatchEnd(batch: number, logs: Logs = {}): void | Promise<void> {
    return this.fns.onTestBatchEnd?.(batch, logs);
  }
  override onPredictBegin(logs: Logs = {}): void | Promise<void> {
    return this.fns.onPredictBegin?.(logs);
  }
  override onPredictEnd(logs: Logs = {}): void | Promise<void> {
    return this.fns.onPredictEnd?.(logs);
  }
  override onPredictBatchBegin(batch: number, logs: Logs = {}): void | Promise<void> {
    return this.fns.onPredictBatchBegin?.(batch, logs);
  }
  override onPredictBatchEnd(batch: number, logs: Logs = {}): void | Promise<void> {
    return this.fns.onPredictBatchEnd?.(batch, logs);
  }
}
