/**
 * keras.callbacks.EarlyStopping: stop training when a monitored metric has stopped improving.
 */
import { fromValues, tidy } from '../engine.js';
import type { DType, TypedArray } from '../dtype.js';
import type { Backend } from '../backends/backend.js';
import { ValueError } from '../errors.js';
import { Callback, type Logs } from './callback.js';

export type MonitorMode = 'auto' | 'min' | 'max';

// Metric names Keras 3 marks as "higher is better" (Metric._direction = "up").
const MAXIMIZED_SUBSTRINGS = ['acc', 'auc', 'precision', 'recall', 'sensitivity', 'specificity', 'true_positives', 'true_negatives', 'cosine_similarity', 'f1_score', 'fbeta_score', 'r2_score'];
const MAXIMIZED_TOKENS = ['iou', 'f1', 'fbeta', 'r2'];

/**
 * Whether `monitor` improves downwards ('min') or upwards ('max') for mode 'auto':
 * a model metric of that name that declares a `direction` decides; else losses and
 * unknown names are minimized and accuracy-like names (acc, auc, precision, recall,
 * iou, f1, ...) are maximized.
 * @internal
 */
export function resolveMonitorMode(monitor: string, mode: string, model?: unknown): 'min' | 'max' {
  if (mode === 'min' || mode === 'max') return mode;
  const name = monitor.startsWith('val_') ? monitor.slice(4) : monitor;
  if (name === 'loss' || name.endsWith('_loss')) return 'min';
  const metrics = (model as { metrics?: { name: string; direction?: string }[] } | undefined)?.metrics;
  for (const m of Array.isArray(metrics) ? metrics : []) {
    if (m.name === name && (m.direction === 'up' || m.direction === 'down')) return m.direction === 'up' ? 'max' : 'min';
  }
  const lower = name.toLowerCase();
  const tokens = lower.split('_');
  if (MAXIMIZED_SUBSTRINGS.some((s) => lower.includes(s)) || MAXIMIZED_TOKENS.some((t) => tokens.includes(t))) return 'max';
  return 'min';
}

/** Keras' warning for a monitored metric missing from the logs. @internal */
export function warnMissingMonitor(what: string, monitor: string, logs: Logs): void {
  process.emitWarning(`${what} conditioned on metric \`${monitor}\` which is not available. Available metrics are: ${Object.keys(logs).join(',')}`);
}

/** Keras io_utils.print_msg. @internal */
export function printMsg(s: string): void {
  process.stdout.write(`${s}\n`);
}

/** A host copy of one weight: immune to later updates, no backend memory held. */
interface WeightSnapshot {
  values: TypedArray;
  shape: number[];
  dtype: DType;
  backend: Backend;
}

export interface EarlyStoppingOptions {
  /** Quantity to monitor ('val_loss'). */
  monitor?: string;
  /** Minimum change counted as an improvement (0; its absolute value is used). */
  minDelta?: number;
  /** Epochs without improvement after which training stops (0). */
  patience?: number;
  /** 1 prints when training stops and when weights are restored (0). */
  verbose?: number;
  /** 'min', 'max' or 'auto' (from the metric name) ('auto'). */
  mode?: MonitorMode;
  /** Training stops if the monitored value does not beat this within `patience` epochs (null). */
  baseline?: number | null;
  /** At the end of training, set the weights of the best epoch seen (false). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before monitoring starts (0). */
  startFromEpoch?: number;
}

const ORDER = ['monitor', 'minDelta', 'patience', 'verbose', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch'] as const;

/** Keras convention: options positionally in Keras order, or one trailing options object. @internal */
export function callbackArgs<T extends object>(owner: string, order: readonly string[], args: unknown[]): T {
  if (args.length === 1 && args[0] !== null && typeof args[0] === 'object') return args[0] as T;
  if (args.length > order.length) throw new ValueError(`${owner}: expected at most ${order.length} arguments (${order.join(', ')}), received ${args.length}`);
  const last = args[args.length - 1];
  const out: Record<string, unknown> = {};
  const plain = last !== null && typeof last === 'object' ? args.slice(0, -1) : args;
  plain.forEach((v, i) => {
    if (v !== undefined) out[order[i]] = v;
  });
  return { ...out, ...(plain.length < args.length ? (last as object) : {}) } as T;
}

/**
 * Stops training when `monitor` has not improved for `patience` epochs, as
 * keras.callbacks.EarlyStopping: `new EarlyStopping({monitor: 'val_loss', patience: 3, restoreBestWeights: true})`.
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly patience: number;
  readonly verbose: number;
  readonly baseline: number | null;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly mode: MonitorMode;
  /** Epochs since the last improvement. */
  wait = 0;
  /** Epoch at which training was stopped (0 if it was not). */
  stoppedEpoch = 0;
  /** Best monitored value so far (null before the first). */
  best: number | null = null;
  /** Epoch of the best value. */
  bestEpoch = 0;
  private bestWeights: WeightSnapshot[] | null = null;
  private direction: 'min' | 'max' | null = null;

  constructor(options?: EarlyStoppingOptions);
  constructor(monitor: string, options: Omit<EarlyStoppingOptions, 'monitor'>);
  constructor(monitor?: string, minDelta?: number, patience?: number, verbose?: number, mode?: MonitorMode, baseline?: number | null, restoreBestWeights?: boolean, startFromEpoch?: number);
  constructor(...args: unknown[]) {
    super();
    const o = callbackArgs<EarlyStoppingOptions>('EarlyStopping', ORDER, args);
    this.monitor = o.monitor ?? 'val_loss';
    this.patience = o.patience ?? 0;
    this.verbose = o.verbose ?? 0;
    this.baseline = o.baseline ?? null;
    this.minDelta = Math.abs(o.minDelta ?? 0);
    this.restoreBestWeights = o.restoreBestWeights ?? false;
    this.startFromEpoch = o.startFromEpoch ?? 0;
    let mode = o.mode ?? 'auto';
    if (!['auto', 'min', 'max'].includes(mode)) {
      process.emitWarning(`EarlyStopping mode ${mode} is unknown, fallback to auto mode.`);
      mode = 'auto';
    }
    this.mode = mode;
    if (!Number.isFinite(this.minDelta)) throw new ValueError(`EarlyStopping: minDelta must be a finite number, received ${o.minDelta}`);
    if (!(Number.isInteger(this.patience) && this.patience >= 0)) throw new ValueError(`EarlyStopping: patience must be a non-negative integer, received ${o.patience}`);
  }

  override onTrainBegin(_logs?: Logs): void {
    // Instances can be reused across fit calls.
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = null;
    this.bestWeights = null;
    this.bestEpoch = 0;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.direction ??= resolveMonitorMode(this.monitor, this.mode, this.model);
    const current = this.getMonitorValue(logs);
    // No value, or still warming up.
    if (current === undefined || epoch < this.startFromEpoch) return;
    // If best weights were never set, the current weights are the best.
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = this.snapshot();
      this.bestEpoch = epoch;
    }
    this.wait += 1;
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = this.snapshot();
      // The wait restarts only if the value beats both the previous best and the baseline.
      if (this.baseline === null || this.isImprovement(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  override onTrainEnd(_logs?: Logs): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) printMsg(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights !== null) {
      if (this.verbose > 0) printMsg(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      const snap = this.bestWeights;
      // The variables keep their own handles; tidy frees the uploaded copies.
      tidy(() => this.model.setWeights(snap.map((w) => fromValues(w.values.slice(), w.shape, w.dtype, w.backend))));
    }
  }

  /** The monitored value from `logs`, warning (as Keras) when it is missing. */
  getMonitorValue(logs: Logs): number | undefined {
    const v = logs[this.monitor];
    if (v === undefined || v === null) {
      warnMissingMonitor('Early stopping', this.monitor, logs);
      return undefined;
    }
    return v;
  }

  private isImprovement(value: number, reference: number | null): boolean {
    if (reference === null) return true;
    return this.direction === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  private snapshot(): WeightSnapshot[] {
    return this.model.weights.map((v) => {
      const t = v.value;
      return { values: t.dataSync(), shape: [...t.shape], dtype: t.dtype, backend: t.backend! };
    });
  }
}
