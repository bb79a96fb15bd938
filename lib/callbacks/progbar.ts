/**
 * The progress bar Keras prints during fit / evaluate / predict:
 * on a TTY a per-step bar with ETA and running metrics; otherwise one line per epoch.
 */
import { Callback, type Logs } from './callback.js';

function formatValue(v: number): string {
  if (v === 0) return '0.0000e+00';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? v.toFixed(4) : v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
}

function formatTime(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  return `${Math.round(seconds)}s`;
}

function perStep(seconds: number): string {
  if (seconds >= 1) return `${Math.round(seconds)}s/step`;
  if (seconds >= 1e-3) return `${Math.round(seconds * 1e3)}ms/step`;
  return `${Math.round(seconds * 1e6)}us/step`;
}

/** A Keras-style progress bar. */
export class Progbar {
  /** Steps completed so far. */
  seen = 0;
  private readonly start = performance.now();
  private lastLen = 0;

  constructor(
    readonly target: number | null,
    private readonly write: (s: string) => void,
    private readonly interactive: boolean,
    private readonly width = 20,
  ) {}

  /** Draws the bar at `current` steps with `values`; `finalize` ends the line. */
  update(current: number, values: Logs, finalize = false): void {
    this.seen = current;
    const elapsed = (performance.now() - this.start) / 1000;
    const metrics = Object.entries(values).map(([k, v]) => ` - ${k}: ${formatValue(v)}`).join('');
    if (!this.interactive) {
      if (finalize) this.write(`${current}/${this.target ?? current} - ${formatTime(elapsed)} - ${perStep(elapsed / Math.max(current, 1))}${metrics}\n`);
      return;
    }
    let bar: string;
    const target = this.target;
    if (target) {
      const digits = String(target).length;
      const done = Math.floor((this.width * current) / target);
      const rest = this.width - done;
      bar = `${String(current).padStart(digits)}/${target} ${'━'.repeat(done)}${rest > 0 ? `\x1b[2m${'━'.repeat(rest)}\x1b[0m` : ''}`;
    } else bar = `${current}/Unknown`;
    const timing = finalize || !target ? ` ${formatTime(elapsed)} ${perStep(elapsed / Math.max(current, 1))}` : ` ${formatTime((elapsed / Math.max(current, 1)) * (target - current))}`;
    const eta = finalize || !target ? timing : ` ETA:${timing.slice(1)}`;
    const line = `${bar}${eta}${metrics}`;
    const pad = this.lastLen > line.length ? ' '.repeat(this.lastLen - line.length) : '';
    this.lastLen = line.length;
    this.write(`\r${line}${pad}${finalize ? '\n' : ''}`);
  }
}

/** Prints training progress: verbose 1 = bar per step (on a TTY), 2 = one line per epoch. */
export class ProgbarLogger extends Callback {
  private bar: Progbar | null = null;
  private epochs = 1;

  constructor(
    private readonly verbose: number = 1,
    private readonly write: (s: string) => void = (s) => process.stdout.write(s),
    private readonly interactive: boolean = Boolean(process.stdout.isTTY),
  ) {
    super();
  }

  override onTrainBegin(): void {
    this.epochs = this.params.epochs;
  }

  override onEpochBegin(epoch: number): void {
    if (this.epochs > 1 || this.verbose > 0) this.write(`Epoch ${epoch + 1}/${this.epochs}\n`);
    this.bar = new Progbar(this.params.steps, this.write, this.interactive && this.verbose === 1);
  }

  override onTrainBatchEnd(batch: number, logs: Logs = {}): void {
    if (this.bar) this.bar.seen = batch + 1;
    if (this.verbose === 1) this.bar?.update(batch + 1, logs);
  }

  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    this.bar?.update(this.lastStep(), logs, true);
  }

  private lastStep(): number {
    return this.bar?.seen ?? this.params.steps ?? 0;
  }

  override onTestBegin(): void {
    if (!this.model || (this.model as { inFit?: boolean }).inFit) return;
    this.bar = new Progbar(this.params.steps, this.write, this.interactive && this.verbose === 1);
  }

  override onTestBatchEnd(batch: number, logs: Logs = {}): void {
    if ((this.model as { inFit?: boolean }).inFit) return;
    if (this.bar) this.bar.seen = batch + 1;
    if (this.verbose === 1) this.bar?.update(batch + 1, logs);
  }

  override onTestEnd(logs: Logs = {}): void {
    if ((this.model as { inFit?: boolean }).inFit) return;
    this.bar?.update(this.lastStep(), logs, true);
  }

  override onPredictBegin(): void {
    this.bar = new Progbar(this.params.steps, this.write, this.interactive && this.verbose === 1);
  }

  override onPredictBatchEnd(batch: number): void {
    if (this.bar) this.bar.seen = batch + 1;
    if (this.verbose === 1) this.bar?.update(batch + 1, {});
  }

  override onPredictEnd(): void {
    this.bar?.update(this.lastStep(), {}, true);
  }
}
