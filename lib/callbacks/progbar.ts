/**
 * The progress bar Keras prints during fit / evaluate / predict:
 * on a TTY a per-step bar with ETA and running metrics, rewritten in place with `\r`;
 * otherwise one line per epoch.
 */
import { ValueError } from '../errors.js';
import { Callback, type CallbackParams, type Logs } from './callback.js';

/** Digits after position `d` of an exact expansion that read "5000…": a rounding tie. */
function isTie(rest: string): boolean {
  return /^50*$/.test(rest);
}

/**
 * Python's `format(x, '.Nf')` / `format(x, '.Ne')`: correctly rounded, ties to even
 * (JS toFixed / toExponential break exact ties away from zero: 0.03125 -> "0.0313",
 * Python -> "0.0312"), `nan` / `inf`, and at least two exponent digits (`1.0000e-05`).
 * @internal
 */
export function pyFormat(x: number, kind: 'f' | 'e', digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const a = Math.abs(x);
  let out: string;
  if (kind === 'f') {
    // toFixed switches to exponent notation from 1e21; such doubles are integers, exact as BigInt.
    if (a >= 1e21) return `${sign}${BigInt(a).toString()}${digits ? `.${'0'.repeat(digits)}` : ''}`;
    out = a.toFixed(digits);
    // Doubles near the magnitudes printed here expand exactly within 40 extra digits.
    const ext = a.toFixed(Math.min(100, digits + 40));
    const dot = ext.indexOf('.');
    const keepLen = digits === 0 ? dot : dot + 1 + digits;
    if (isTie(ext.slice(dot + 1 + digits)) && Number(ext[keepLen - 1]) % 2 === 0) out = ext.slice(0, keepLen);
  } else {
    out = a.toExponential(digits);
    const ext = a.toExponential(Math.min(100, digits + 40));
    const [mant, exp] = ext.split('e');
    const keepLen = digits === 0 ? 1 : 2 + digits;
    if (isTie(mant.slice(2 + digits)) && Number(mant[keepLen - 1]) % 2 === 0) out = `${mant.slice(0, keepLen)}e${exp}`;
    out = out.replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return sign + out;
}

/** Python's `repr(float)`: shortest round-trip digits, scientific below 1e-4 and from 1e16, `1.0` for integers. @internal */
export function pyRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(x).toExponential().split('e');
  const exp = Number(expStr);
  const digits = mant.replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  const int = digits.slice(0, intLen).padEnd(intLen, '0');
  const frac = digits.slice(intLen);
  return `${sign}${int}.${frac || '0'}`;
}

/** Python `'%.0f'` (ties to even). */
function round0(x: number): string {
  return pyFormat(x, 'f', 0);
}

/** Keras' time per unit: seconds, ms or us, no decimals. */
function formatTimePerUnit(seconds: number, unit: string): string {
  if (seconds >= 1 || seconds === 0) return ` ${round0(seconds)}s/${unit}`;
  if (seconds >= 1e-3) return ` ${round0(seconds * 1e3)}ms/${unit}`;
  return ` ${round0(seconds * 1e6)}us/${unit}`;
}

const ANSI = /\x1b\[[0-9;]*m/g;

function countPart(current: number, target: number): string {
  const digits = target > 0 ? Math.floor(Math.log10(target)) + 1 : 1;
  return `${String(current).padStart(digits)}/${target}`;
}

export interface ProgbarOptions {
  /** Bar width in characters (20). */
  width?: number;
  /** 0 silent, 1 bar updated in place, 2 one line when finalized (1). */
  verbose?: number;
  /** Minimum seconds between two verbose-1 redraws (0.05). */
  interval?: number;
  /** Metrics shown as given instead of averaged over updates. */
  statefulMetrics?: string[];
  /** Unit in the time-per-unit display ('step'). */
  unitName?: string;
  /** Where text goes (process.stdout by default). */
  write?: (s: string) => void;
  /** Redraw the bar in place with `\r` (default: stdout is a TTY); else each draw starts a new line. */
  dynamicDisplay?: boolean;
  /** A clock in seconds (default performance.now); tests pass a fake one. */
  clock?: () => number;
}

/**
 * A Keras progress bar: `new Progbar(target, {verbose: 1})` then `update(current, values)`.
 * Values of non-stateful metrics are averaged over the updates, as Keras does.
 */
export class Progbar {
  /** Expected total steps; null while unknown. */
  target: number | null;
  readonly width: number;
  readonly verbose: number;
  readonly interval: number;
  readonly unitName: string;
  private readonly statefulMetrics: Set<string>;
  private readonly write: (s: string) => void;
  private readonly dynamicDisplay: boolean;
  private readonly clock: () => number;
  private readonly values = new Map<string, [number, number]>();
  private seenSoFar = 0;
  private readonly start: number;
  private lastUpdate = -Infinity;
  private timeAfterFirstStep: number | null = null;
  private prevTotalWidth = 0;

  /** Keras order: (target, width, verbose, interval, statefulMetrics, unitName), or (target, options). */
  constructor(target: number | null, options?: ProgbarOptions | number, verbose?: number, interval?: number, statefulMetrics?: string[], unitName?: string) {
    const o: ProgbarOptions = typeof options === 'object' ? options : { width: options, verbose, interval, statefulMetrics, unitName };
    if (target !== null && !(Number.isInteger(target) && target >= 0)) throw new ValueError(`Progbar: target must be a non-negative integer or null, received ${target}`);
    this.target = target;
    this.width = o.width ?? 20;
    this.verbose = o.verbose ?? 1;
    this.interval = o.interval ?? 0.05;
    this.unitName = o.unitName ?? 'step';
    this.statefulMetrics = new Set(o.statefulMetrics ?? []);
    this.write = o.write ?? ((s) => void process.stdout.write(s));
    this.dynamicDisplay = o.dynamicDisplay ?? Boolean(process.stdout.isTTY);
    this.clock = o.clock ?? (() => performance.now() / 1000);
    this.start = this.clock();
  }

  /** Steps seen so far. */
  get seen(): number {
    return this.seenSoFar;
  }

  /**
   * Draws the bar at `current` steps with metric `values` (a logs object or [name, value] pairs).
   * `finalize` (default: current >= target) ends the line and shows the values as given.
   */
  update(current: number, values: Logs | [string, number][] = [], finalize?: boolean): void {
    const fin = finalize ?? (this.target === null ? false : current >= this.target);
    const entries = Array.isArray(values) ? values : Object.entries(values);
    for (const [k, v] of entries) {
      if (!fin && !this.statefulMetrics.has(k)) {
        // Weighted by the steps since the last update, so sparse updates average correctly.
        const base = Math.max(current - this.seenSoFar, 1);
        const acc = this.values.get(k);
        if (acc) {
          acc[0] += v * base;
          acc[1] += base;
        } else this.values.set(k, [v * base, base]);
      } else this.values.set(k, [v, 1]);
    }
    this.seenSoFar = current;
    const now = this.clock();
    const timePerUnit = this.estimateStepDuration(current, now);

    if (this.verbose === 1) {
      if (now - this.lastUpdate < this.interval && !fin) return;
      let message = this.dynamicDisplay ? '\r' : '\n';
      let bar: string;
      if (this.target !== null) {
        bar = `\x1b[1m${countPart(current, this.target)}\x1b[0m `;
        const done = this.target > 0 ? Math.min(this.width, Math.floor((this.width * current) / this.target)) : this.width;
        if (done > 0) bar += `\x1b[32m${'━'.repeat(done)}\x1b[0m`;
        bar += `\x1b[37m${'━'.repeat(this.width - done)}\x1b[0m`;
      } else bar = `${String(current).padStart(7)}/Unknown`;
      message += bar;
      let info: string;
      if (this.target !== null && !fin) info = ` \x1b[1m${this.formatEta(timePerUnit * (this.target - current))}\x1b[0m`;
      else info = ` \x1b[1m${round0(now - this.start)}s\x1b[0m`;
      info += formatTimePerUnit(timePerUnit, this.unitName);
      for (const [k, [sum, count]] of this.values) {
        const avg = sum / Math.max(1, count);
        info += ` - ${k}: ${Math.abs(avg) > 1e-3 ? pyFormat(avg, 'f', 4) : pyFormat(avg, 'e', 4)}`;
      }
      message += info;
      const totalWidth = (bar + info).replace(ANSI, '').length;
      if (this.prevTotalWidth > totalWidth) message += ' '.repeat(this.prevTotalWidth - totalWidth);
      if (fin) message += '\n';
      this.write(message);
      this.prevTotalWidth = totalWidth;
    } else if (this.verbose === 2 && fin) {
      let info = `${countPart(current, this.target ?? current)} - ${round0(now - this.start)}s -${formatTimePerUnit(timePerUnit, this.unitName)}`;
      for (const [k, [sum, count]] of this.values) {
        const avg = sum / Math.max(1, count);
        // Keras tests `avg > 1e-3` here (not the absolute value).
        info += ` - ${k}: ${avg > 1e-3 ? pyFormat(avg, 'f', 4) : pyFormat(avg, 'e', 4)}`;
      }
      this.write(`${info}\n`);
    }
    this.lastUpdate = now;
  }

  /** Advances by `n` steps. */
  add(n: number, values: Logs | [string, number][] = []): void {
    this.update(this.seenSoFar + n, values);
  }

  private formatEta(eta: number): string {
    if (eta > 3600) return `${Math.floor(eta / 3600)}:${String(Math.floor((eta % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(eta % 60)).padStart(2, '0')}`;
    if (eta > 60) return `${Math.floor(eta / 60)}:${String(Math.floor(eta % 60)).padStart(2, '0')}`;
    return `${Math.floor(eta)}s`;
  }

  /** Seconds per step, leaving out the first step (it includes tracing and compilation). */
  private estimateStepDuration(current: number, now: number): number {
    if (!current) return 0;
    const perUnit = this.timeAfterFirstStep !== null && current > 1 ? (now - this.timeAfterFirstStep) / (current - 1) : (now - this.start) / current;
    if (current === 1) this.timeAfterFirstStep = now;
    return perUnit;
  }
}

/**
 * Prints training progress: verbose 1 = a bar redrawn every step on a TTY (one line per
 * epoch when stdout is not a TTY, so logs stay readable), verbose 2 = one line per epoch.
 * Validation inside fit prints nothing of its own.
 */
export class ProgbarLogger extends Callback {
  private progbar: Progbar | null = null;
  private seen = 0;
  private target: number | null = null;
  private epochs = 1;
  private verbose: number;

  /**
   * @param verbose 0, 1 or 2; by default the `verbose` fit/evaluate/predict were given.
   * @param write where text goes (process.stdout by default).
   * @param interactive whether the output is a terminal (default: stdout is a TTY).
   */
  constructor(
    private readonly verboseArg?: number,
    private readonly write: (s: string) => void = (s) => void process.stdout.write(s),
    private readonly interactive: boolean = Boolean(process.stdout.isTTY),
  ) {
    super();
    this.verbose = verboseArg ?? 1;
  }

  override setParams(params: CallbackParams): void {
    super.setParams(params);
    this.verbose = this.verboseArg ?? params.verbose;
    this.epochs = params.epochs;
    this.target = params.steps;
  }

  private get calledInFit(): boolean {
    return Boolean(this.model && (this.model as { inFit?: boolean }).inFit);
  }

  private reset(): void {
    this.seen = 0;
    this.progbar = null;
  }

  private ensureProgbar(): Progbar {
    // Off a terminal a bar redrawn with \r is noise: verbose 1 prints verbose 2's line.
    const verbose = this.verbose === 1 && !this.interactive ? 2 : this.verbose;
    this.progbar ??= new Progbar(this.target, { verbose, write: this.write, dynamicDisplay: this.interactive, unitName: 'step' });
    return this.progbar;
  }

  private updateBar(batch: number, logs: Logs = {}): void {
    const bar = this.ensureProgbar();
    this.seen = batch + 1;
    if (this.verbose === 1) bar.update(this.seen, logs, false);
  }

  private finalize(logs: Logs = {}): void {
    const bar = this.ensureProgbar();
    if (this.target === null) {
      // Unknown length (a dataset): the first pass tells it.
      this.target = this.seen;
      bar.target = this.target;
    }
    bar.update(this.target, logs, true);
  }

  override onEpochBegin(epoch: number, _logs?: Logs): void {
    this.reset();
    this.ensureProgbar();
    if (this.verbose && this.epochs > 1) this.write(`Epoch ${epoch + 1}/${this.epochs}\n`);
  }

  override onTrainBatchEnd(batch: number, logs?: Logs): void {
    this.updateBar(batch, logs);
  }

  override onEpochEnd(_epoch: number, logs?: Logs): void {
    this.finalize(logs);
  }

  override onTestBegin(_logs?: Logs): void {
    if (this.calledInFit) return;
    this.reset();
    this.ensureProgbar();
  }

  override onTestBatchEnd(batch: number, logs?: Logs): void {
    if (!this.calledInFit) this.updateBar(batch, logs);
  }

  override onTestEnd(logs?: Logs): void {
    if (!this.calledInFit) this.finalize(logs);
  }

  override onPredictBegin(_logs?: Logs): void {
    this.reset();
    this.ensureProgbar();
  }

  override onPredictBatchEnd(batch: number, _logs?: Logs): void {
    this.updateBar(batch);
  }

  override onPredictEnd(_logs?: Logs): void {
    this.finalize();
  }
}
