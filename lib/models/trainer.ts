/**
 * compile / fit / evaluate / predict. A train step is written once with ops,
 * a tape and the optimizer; with jitCompile it is traced into one graph (forward,
 * loss, gradients, optimizer update, metric updates) that the backend compiles, so
 * each batch is one executable run.
 */
import { isFloat, type DType } from '../dtype.js';
import { KerasError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { getBackend, tidy, keep } from '../engine.js';
import { GradientTape } from '../autodiff/tape.js';
import { trace } from '../ir/trace.js';
import type { Executable } from '../backends/backend.js';
import { Layer } from '../layers/layer.js';
import * as ops from '../ops/index.js';
import type { TensorLike } from '../ops/common.js';
import { Tensor } from '../tensor.js';
import * as lossesModule from '../losses/index.js';
import * as metricsModule from '../metrics/index.js';
import * as optimizersModule from '../optimizers/index.js';
import { Callback, CallbackList, History, type Logs } from '../callbacks/callback.js';
import { ProgbarLogger } from '../callbacks/progbar.js';

type Loss = lossesModule.Loss;
type Metric = metricsModule.Metric;
type Optimizer = optimizersModule.Optimizer;

export type LossLike = string | Loss | ((yTrue: Tensor, yPred: Tensor) => Tensor);
export type MetricLike = string | Metric | metricsModule.MetricFn;

/** Inputs or targets: one array-like, a list, or a dict by name. */
export type DataLike = TensorLike | TensorLike[] | Record<string, TensorLike>;
/** One batch from an iterable dataset: [x, y?, sampleWeight?] or an object. */
export type Batch = [DataLike, DataLike?, DataLike?] | { x: DataLike; y?: DataLike; sampleWeight?: DataLike };
export type Dataset = Iterable<Batch> | AsyncIterable<Batch>;

export interface CompileArgs {
  optimizer?: string | Optimizer | Record<string, unknown>;
  loss?: LossLike | LossLike[] | Record<string, LossLike> | null;
  metrics?: MetricLike[] | MetricLike[][] | Record<string, MetricLike | MetricLike[]> | null;
  lossWeights?: number[] | Record<string, number> | null;
  /** 'auto' (default): trace the train step into a graph when possible, else run eagerly. */
  jitCompile?: boolean | 'auto';
  runEagerly?: boolean;
}

export interface FitArgs {
  batchSize?: number;
  epochs?: number;
  verbose?: 0 | 1 | 2 | 'auto';
  callbacks?: Callback[];
  validationSplit?: number;
  validationData?: [DataLike, DataLike, DataLike?] | Dataset;
  shuffle?: boolean;
  classWeight?: Record<number, number>;
  sampleWeight?: TensorLike;
  initialEpoch?: number;
  stepsPerEpoch?: number;
  validationSteps?: number;
  validationBatchSize?: number;
  validationFreq?: number;
}

export interface EvaluateArgs {
  batchSize?: number;
  verbose?: 0 | 1 | 2 | 'auto';
  sampleWeight?: TensorLike;
  steps?: number;
  callbacks?: Callback[];
  returnDict?: boolean;
}

export interface PredictArgs {
  batchSize?: number;
  verbose?: 0 | 1 | 2 | 'auto';
  steps?: number;
  callbacks?: Callback[];
}

/** A batch as tensors: x and y as the model expects them (tensor, list or dict). */
export interface TensorBatch {
  x: Tensor | Tensor[] | Record<string, Tensor>;
  y?: Tensor | Tensor[] | Record<string, Tensor>;
  sampleWeight?: Tensor | Tensor[] | Record<string, Tensor>;
  /** Tensors fit created for this batch and frees after the step (never the caller's own). */
  owned?: Tensor[];
}

type Structured = Tensor | Tensor[] | Record<string, Tensor>;

function mapStructure(d: DataLike, fn: (x: TensorLike, key: string) => Tensor): Structured {
  if (d instanceof Tensor || ArrayBuffer.isView(d) || typeof d === 'number' || typeof d === 'boolean') return fn(d as TensorLike, '');
  if (Array.isArray(d)) {
    // A nested numeric array is one tensor; an array of tensors / typed arrays is a list of inputs.
    const isList = d.length > 0 && d.every((e) => e instanceof Tensor || ArrayBuffer.isView(e) || (Array.isArray(e) && false));
    if (isList) return d.map((e, i) => fn(e as TensorLike, String(i)));
    return fn(d as TensorLike, '');
  }
  if (d && typeof d === 'object' && 'value' in d && 'assign' in d) return fn(d as TensorLike, '');
  return Object.fromEntries(Object.entries(d as Record<string, TensorLike>).map(([k, v]) => [k, fn(v, k)]));
}

function leaves(s: Structured | undefined): Tensor[] {
  if (!s) return [];
  if (s instanceof Tensor) return [s];
  if (Array.isArray(s)) return s;
  return Object.values(s);
}

function rebuild(template: Structured | undefined, flat: Tensor[], pos: { i: number }): Structured | undefined {
  if (!template) return undefined;
  if (template instanceof Tensor) return flat[pos.i++];
  if (Array.isArray(template)) return template.map(() => flat[pos.i++]);
  return Object.fromEntries(Object.keys(template).map((k) => [k, flat[pos.i++]]));
}

/** A deterministic shuffle (mulberry32), so runs on two backends see the same batches. */
function shuffledIndices(n: number, seed: number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Yields per-batch tensors from in-memory arrays. */
class ArrayData {
  readonly size: number;

  /**
   * `checkNaN`: warn about NaN in x and y (fit, evaluate), reading them back once. Not for
   * predict, where a NaN input shows as a NaN output and the read was a third of a small call.
   */
  constructor(
    readonly x: Structured,
    readonly y: Structured | undefined,
    readonly sampleWeight: Structured | undefined,
    checkNaN = true,
  ) {
    const all = [...leaves(x), ...leaves(y), ...leaves(sampleWeight)];
    this.size = all[0].shape[0];
    if (checkNaN) {
      warnOnNaN(x, 'x');
      warnOnNaN(y, 'y');
    }
    for (const t of all) {
      if (t.rank === 0 || t.shape[0] !== this.size) {
        throw new ShapeError(`Data cardinality is ambiguous: all arrays must have the same first dimension; received shapes ${all.map((a) => fmtShape(a.shape)).join(', ')}`);
      }
    }
  }

  /** Splits off the last `fraction` of samples (Keras' validationSplit, taken before shuffling). */
  split(fraction: number): [ArrayData, ArrayData] {
    if (!(fraction > 0 && fraction < 1)) throw new ValueError(`validationSplit must be in (0, 1), received ${fraction}`);
    const nTrain = Math.floor(this.size * (1 - fraction));
    const take = (s: Structured | undefined, from: number, to: number) => (s ? mapStructure(s as DataLike, (t) => ops.slice(t as Tensor, [from, ...(t as Tensor).shape.slice(1).map(() => 0)], [to - from, ...(t as Tensor).shape.slice(1)])) : undefined);
    // Slices of data this one already checked for NaN.
    return [
      new ArrayData(take(this.x, 0, nTrain)!, take(this.y, 0, nTrain), take(this.sampleWeight, 0, nTrain), false),
      new ArrayData(take(this.x, nTrain, this.size)!, take(this.y, nTrain, this.size), take(this.sampleWeight, nTrain, this.size), false),
    ];
  }

  /** Batches of an epoch, in shuffled or natural order. */
  *batches(batchSize: number, shuffle: boolean, seed: number): Generator<TensorBatch> {
    const order = shuffle ? shuffledIndices(this.size, seed) : null;
    for (let start = 0; start < this.size; start += batchSize) {
      const end = Math.min(start + batchSize, this.size);
      const pick = (s: Structured | undefined): Structured | undefined => {
        if (!s) return undefined;
        return mapStructure(s as DataLike, (t) => {
          const tt = t as Tensor;
          if (order) {
            const idx = ops.convertToTensor(order.subarray(start, end));
            const rows = ops.take(tt, idx, 0);
            idx.dispose();
            return rows;
          }
          return ops.slice(tt, [start, ...tt.shape.slice(1).map(() => 0)], [end - start, ...tt.shape.slice(1)]);
        });
      };
      const b: TensorBatch = { x: pick(this.x)!, y: pick(this.y), sampleWeight: pick(this.sampleWeight) };
      b.owned = [...leaves(b.x), ...leaves(b.y), ...leaves(b.sampleWeight)];
      yield b;
    }
  }

  steps(batchSize: number): number {
    return Math.ceil(this.size / batchSize);
  }
}

/** NaN in the data makes every loss NaN; say so up front, naming the array and its shape. */
function warnOnNaN(s: Structured | undefined, what: string): void {
  for (const t of leaves(s)) {
    if (t.isSymbolic || !isFloat(t.dtype)) continue;
    const v = t.values();
    let count = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== v[i]) count++;
    if (count) process.emitWarning(`${what} of shape ${fmtShape(t.shape)} contains ${count} NaN value(s); losses and gradients computed from them will be NaN`, 'KerasDataWarning');
  }
}

function toTensors(d: DataLike | undefined, what: string): Structured | undefined {
  if (d === undefined || d === null) return undefined;
  return mapStructure(d, (x, key) => {
    try {
      return ops.convertToTensor(x);
    } catch (e) {
      throw new ValueError(`${what}${key ? `["${key}"]` : ''}: ${(e as Error).message}`);
    }
  });
}

function batchFrom(b: Batch): TensorBatch {
  const [x, y, sw] = Array.isArray(b) ? b : [b.x, b.y, b.sampleWeight];
  // One tensor and nothing else (predictOnBatch(x)): nothing converted, nothing owned.
  if (x instanceof Tensor && y === undefined && sw === undefined) return { x, y: undefined, sampleWeight: undefined, owned: [] };
  const batch: TensorBatch = { x: toTensors(x, 'x')!, y: toTensors(y, 'y'), sampleWeight: toTensors(sw, 'sampleWeight') };
  const given = new Set<unknown>([x, y, sw].flatMap((d) => (d instanceof Tensor ? [d] : Array.isArray(d) ? d : d && typeof d === 'object' && !ArrayBuffer.isView(d) ? Object.values(d) : [])));
  batch.owned = [...leaves(batch.x), ...leaves(batch.y), ...leaves(batch.sampleWeight)].filter((t) => !given.has(t));
  return batch;
}

function isDataset(d: unknown): d is Dataset {
  return !!d && typeof d === 'object' && !Array.isArray(d) && !(d instanceof Tensor) && (Symbol.iterator in d || Symbol.asyncIterator in d);
}

/** Turns a fit/evaluate data source into (async) batches with a known or unknown step count. */
function dataSource(
  x: DataLike | Dataset,
  y: DataLike | undefined,
  sampleWeight: TensorLike | undefined,
  batchSize: number,
  shuffle: boolean,
  checkNaN = true,
): { steps: number | null; epoch: (seed: number) => AsyncIterable<TensorBatch> | Iterable<TensorBatch>; data?: ArrayData } {
  if (isDataset(x)) {
    return {
      steps: null,
      epoch: () =>
        (async function* () {
          for await (const b of x as AsyncIterable<Batch>) yield batchFrom(b);
        })(),
    };
  }
  const data = new ArrayData(toTensors(x as DataLike, 'x')!, toTensors(y, 'y'), toTensors(sampleWeight, 'sampleWeight'), checkNaN);
  return { steps: data.steps(batchSize), epoch: (seed) => data.batches(batchSize, shuffle, seed), data };
}

/**
 * The callback list of fit/evaluate/predict, in Keras' order: the user's callbacks, then
 * History (fit only), then the progress bar, unless the user passed their own.
 */
function standardCallbacks(user: Callback[], verbose: number, withHistory: boolean): CallbackList {
  const list = [...user];
  if (withHistory && !list.some((c) => c instanceof History)) list.push(new History());
  if (verbose && !list.some((c) => c instanceof ProgbarLogger)) list.push(new ProgbarLogger(verbose));
  return new CallbackList(list);
}

/** Frees the tensors fit/evaluate/predict made from the caller's arrays (never the caller's own tensors). */
function disposeCreated(datas: (ArrayData | undefined)[], given: unknown[]): void {
  const mine = new Set<unknown>();
  const collectGiven = (v: unknown): void => {
    if (v instanceof Tensor) mine.add(v);
    else if (Array.isArray(v)) v.forEach(collectGiven);
    else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) Object.values(v).forEach(collectGiven);
  };
  given.forEach(collectGiven);
  for (const d of datas) {
    if (!d) continue;
    for (const t of [...leaves(d.x), ...leaves(d.y), ...leaves(d.sampleWeight)]) if (!mine.has(t)) t.dispose();
  }
}

/** Flattens log tensors into numbers (one sync read per value). */
function readLogs(logs: Record<string, Tensor>): Logs {
  const out: Logs = {};
  for (const [k, v] of Object.entries(logs)) out[k] = v.item();
  return out;
}

interface CompiledStep {
  keys: string[];
  exe: Executable;
  signature: StepSignature;
}

/** What a compiled step was traced for: each input's dtype and dims past the batch's, and how many of them are x, y and sampleWeight. */
interface StepSignature {
  inputs: { dtype: DType; dims: number[] }[];
  counts: [number, number, number];
}

function stepSignature(batch: TensorBatch, flat: Tensor[]): StepSignature {
  return {
    inputs: flat.map((t) => ({ dtype: t.dtype, dims: t.shape.slice(1) })),
    counts: [leaves(batch.x).length, leaves(batch.y).length, leaves(batch.sampleWeight).length],
  };
}

/** True when `batch` fits `s`; a loop without allocations, as it runs before every compiled step (a small predict call: ~1 us). */
function fitsSignature(s: StepSignature, batch: TensorBatch, flat: Tensor[]): boolean {
  if (flat.length !== s.inputs.length) return false;
  for (let i = 0; i < flat.length; i++) {
    const { dtype, dims } = s.inputs[i]!;
    const shape = flat[i]!.shape;
    if (flat[i]!.dtype !== dtype || shape.length !== dims.length + 1) return false;
    for (let d = 0; d < dims.length; d++) if (shape[d + 1] !== dims[d]) return false;
  }
  return leaves(batch.x).length === s.counts[0] && leaves(batch.y).length === s.counts[1] && leaves(batch.sampleWeight).length === s.counts[2];
}

/** The training half of keras.Model. */
export abstract class Trainer extends Layer {
  optimizer: Optimizer | null = null;
  compiled = false;
  /** Set by callbacks (EarlyStopping, TerminateOnNaN) to end fit after the current batch. */
  stopTraining = false;
  history: History | null = null;
  /** @internal True while fit runs (evaluate on validation data prints nothing). */
  inFit = false;
  protected lossFns: (Loss | null)[] = [];
  protected lossWeightsList: number[] = [];
  protected metricsPerOutput: Metric[][] = [];
  protected lossTracker: Metric | null = null;
  protected outputLossTrackers: Metric[] = [];
  private compileArgs: CompileArgs = {};
  private jit: boolean | 'auto' = 'auto';
  private compiledTrain: CompiledStep | null = null;
  private compiledTest: CompiledStep | null = null;
  private compiledPredict: CompiledStep | null = null;

  abstract get outputNames(): string[];

  /** Configures the model for training (Keras compile). */
  compile(args: CompileArgs = {}): void {
    this.compileArgs = args;
    this.optimizer = optimizersModule.get(args.optimizer ?? 'rmsprop');
    this.jit = args.runEagerly ? false : args.jitCompile ?? 'auto';
    this.compiledTrain = this.compiledTest = this.compiledPredict = null;
    this.lossTracker = new metricsModule.Mean({ name: 'loss' });
    this.compiled = true;
    this.metricsResolved = false;
  }

  private metricsResolved = false;

  /** Losses and metrics are matched to outputs once the output count is known. */
  private resolveLossesAndMetrics(): void {
    if (this.metricsResolved) return;
    const names = this.outputNames;
    const n = names.length;
    const { loss, metrics, lossWeights } = this.compileArgs;
    const perOutput = <T>(value: T | T[] | Record<string, T> | null | undefined, what: string, isLeaf: (v: unknown) => boolean): (T | null)[] => {
      if (value === null || value === undefined) return names.map(() => null);
      if (isLeaf(value)) return names.map(() => value as T);
      if (Array.isArray(value)) {
        if (value.length !== n) throw new ValueError(`compile: ${what} has ${value.length} entries but the model has ${n} outputs (${names.join(', ')})`);
        return value;
      }
      const dict = value as Record<string, T>;
      for (const k of Object.keys(dict)) if (!names.includes(k)) throw new ValueError(`compile: ${what} names unknown output "${k}"; outputs are ${names.join(', ')}`);
      return names.map((nm) => dict[nm] ?? null);
    };
    const isLossLeaf = (v: unknown) => typeof v === 'string' || typeof v === 'function' || v instanceof lossesModule.Loss;
    this.lossFns = perOutput<LossLike>(loss, 'loss', isLossLeaf).map((l) => (l === null ? null : lossesModule.get(l)));
    const weights = perOutput<number>(lossWeights ?? null, 'lossWeights', (v) => typeof v === 'number');
    this.lossWeightsList = weights.map((w) => w ?? 1);
    // One output: a flat list. Several: a dict by output name, a list of lists, or a flat list for every output.
    let metricLists: MetricLike[][];
    if (metrics === null || metrics === undefined) metricLists = names.map(() => []);
    else if (Array.isArray(metrics) && metrics.every((m) => !Array.isArray(m))) metricLists = names.map(() => metrics as MetricLike[]);
    else metricLists = perOutput<MetricLike[] | MetricLike>(metrics as never, 'metrics', () => false).map((m) => (m === null ? [] : Array.isArray(m) ? m : [m]));
    this.metricsPerOutput = metricLists.map((list, i) =>
      (list as MetricLike[]).map((m) => {
        const metric = metricsModule.get(m, { loss: this.lossFns[i] ?? undefined })!;
        if (n > 1) metric.name = `${names[i]}_${metric.name}`;
        return metric;
      }),
    );
    this.outputLossTrackers = n > 1 ? names.map((nm) => new metricsModule.Mean({ name: `${nm}_loss` })) : [];
    this.metricsResolved = true;
  }

  /** All metrics, the loss tracker first (Keras' `model.metrics`). */
  get metrics(): Metric[] {
    return [...(this.lossTracker ? [this.lossTracker] : []), ...this.outputLossTrackers, ...this.metricsPerOutput.flat()];
  }

  get metricsNames(): string[] {
    return this.metrics.map((m) => m.name);
  }

  private outputsList(yPred: unknown): Tensor[] {
    if (yPred instanceof Tensor) return [yPred];
    if (Array.isArray(yPred)) return yPred;
    const names = this.outputNames;
    return names.map((n) => (yPred as Record<string, Tensor>)[n]);
  }

  private targetsList(y: Structured | undefined, n: number): (Tensor | undefined)[] {
    if (!y) return new Array(n).fill(undefined);
    if (y instanceof Tensor) {
      if (n !== 1) throw new ValueError(`model has ${n} outputs (${this.outputNames.join(', ')}) but y is a single array; pass a list or a dict of targets`);
      return [y];
    }
    if (Array.isArray(y)) {
      if (y.length !== n) throw new ValueError(`model has ${n} outputs but y has ${y.length} entries`);
      return y;
    }
    return this.outputNames.map((nm) => {
      const t = (y as Record<string, Tensor>)[nm];
      if (!t) throw new ValueError(`y is missing a target for output "${nm}"; received keys ${Object.keys(y).join(', ')}`);
      return t;
    });
  }

  /** Total loss: weighted sum of per-output losses plus regularization losses (Keras compute_loss). */
  computeLoss(x: Structured, y: Structured | undefined, yPred: unknown, sampleWeight?: Structured): Tensor {
    void x;
    this.resolveLossesAndMetrics();
    const preds = this.outputsList(yPred);
    const targets = this.targetsList(y, preds.length);
    const weights = sampleWeight === undefined ? [] : sampleWeight instanceof Tensor ? preds.map(() => sampleWeight) : leaves(sampleWeight);
    let total: Tensor | null = null;
    preds.forEach((p, i) => {
      const fn = this.lossFns[i];
      if (!fn) return;
      const t = targets[i];
      if (!t) throw new ValueError(`compile() was given a loss for output "${this.outputNames[i]}" but fit/evaluate received no target for it`);
      const l = fn.compute(t, p, weights[i] ?? null);
      this.outputLossTrackers[i]?.updateState(l);
      const weighted = this.lossWeightsList[i] === 1 ? l : ops.multiply(l, this.lossWeightsList[i]);
      total = total ? ops.add(total, weighted) : weighted;
    });
    for (const penalty of this.losses) total = total ? ops.add(total, penalty) : penalty;
    if (!total) throw new ValueError('No loss to compute: pass `loss` to compile() or override computeLoss / trainStep');
    return total;
  }

  /** Updates the compiled metrics with a batch (Keras compute_metrics). */
  computeMetrics(y: Structured | undefined, yPred: unknown, sampleWeight?: Structured): void {
    this.resolveLossesAndMetrics();
    const preds = this.outputsList(yPred);
    const targets = this.targetsList(y, preds.length);
    preds.forEach((p, i) => {
      const t = targets[i];
      if (!t) return;
      const sw = sampleWeight instanceof Tensor ? sampleWeight : sampleWeight ? leaves(sampleWeight)[i] : undefined;
      for (const m of this.metricsPerOutput[i] ?? []) m.updateState(t, p, sw ?? null);
    });
  }

  /** Current metric results as tensors (inside a trace: symbolic). */
  getMetricsResult(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const m of this.metrics) out[m.name] = m.result();
    return out;
  }

  /**
   * One training step: forward in training mode, loss, gradients, optimizer update,
   * metric updates. Override for custom training logic; it must use ops only so it compiles.
   */
  trainStep(data: TensorBatch): Record<string, Tensor> {
    const { x, y, sampleWeight } = data;
    const variables = this.trainableWeights;
    const tape = new GradientTape({ watchAccessedVariables: false });
    tape.watch(...variables);
    this.resetCallLosses();
    const { loss, yPred } = tape.record(() => {
      const yPred = this.apply(x as never, { training: true });
      return { loss: this.computeLoss(x, y, yPred, sampleWeight), yPred };
    });
    if (variables.length) {
      const grads = tape.gradient(loss, variables);
      this.optimizer!.apply(grads, variables);
      for (const [v, c] of this.constraintUpdates()) v.assign(c.call(v.value));
    } else tape.dispose();
    const batch = leaves(x)[0].shape[0];
    this.lossTracker!.updateState(loss, batch === null ? null : ops.convertToTensor(batch, 'float32'));
    this.computeMetrics(y, yPred, sampleWeight);
    return this.getMetricsResult();
  }

  /** One evaluation step (inference mode). */
  testStep(data: TensorBatch): Record<string, Tensor> {
    const { x, y, sampleWeight } = data;
    this.resetCallLosses();
    const yPred = this.apply(x as never, { training: false });
    const loss = this.computeLoss(x, y, yPred, sampleWeight);
    const batch = leaves(x)[0].shape[0];
    this.lossTracker!.updateState(loss, batch === null ? null : ops.convertToTensor(batch, 'float32'));
    this.computeMetrics(y, yPred, sampleWeight);
    return this.getMetricsResult();
  }

  /** One prediction step. */
  predictStep(data: TensorBatch): Tensor[] {
    return this.outputsList(this.apply(data.x as never, { training: false }));
  }

  private ensureCompiled(what: string): void {
    if (!this.compiled || !this.optimizer) throw new KerasError(`You must call compile() before ${what}`);
  }

  /** Runs `step` on a batch, compiled into one graph when possible. */
  private runStep(kind: 'train' | 'test', batch: TensorBatch): Logs {
    const prepared = this.prepareStep(kind, batch);
    if (!prepared.compiled) return tidy(() => readLogs(prepared.step(batch)));
    return this.readOutputs(prepared.compiled, prepared.compiled.exe.runSync(this.flatBatch(batch)));
  }

  /** Like runStep, but a compiled step runs through the executable's async `run` (off the event loop where the backend can). */
  private async runStepAsync(kind: 'train' | 'test', batch: TensorBatch): Promise<Logs> {
    const prepared = this.prepareStep(kind, batch);
    if (!prepared.compiled) return tidy(() => readLogs(prepared.step(batch)));
    return this.readOutputs(prepared.compiled, await prepared.compiled.exe.run(this.flatBatch(batch)));
  }

  private prepareStep(kind: 'train' | 'test' | 'predict', batch: TensorBatch): { step: (b: TensorBatch) => Record<string, Tensor>; compiled: CompiledStep | null } {
    // A predict step's outputs keyed by position, as a graph's outputs are.
    const step = (b: TensorBatch) =>
      kind === 'train' ? this.trainStep(b) : kind === 'test' ? this.testStep(b) : Object.fromEntries(this.predictStep(b).map((t, i) => [String(i), t]));
    if (!this.built) this.buildFromBatch(batch);
    // build() returns at once once built; testing first skips the per-step walk of the layers for trainableWeights.
    if (kind === 'train' && !this.optimizer!.built) tidy(() => this.optimizer!.build(this.trainableWeights));
    return { step, compiled: this.jit === false ? null : this.compiledFor(kind, batch, step) };
  }

  private readOutputs(compiled: CompiledStep, outs: Tensor[]): Logs {
    const logs: Logs = {};
    compiled.keys.forEach((k, i) => {
      logs[k] = outs[i].item();
      outs[i].dispose();
    });
    return logs;
  }

  /** Builds the model eagerly with one batch, so weights exist before tracing. */
  private buildFromBatch(batch: TensorBatch): void {
    tidy(() => {
      this.apply(batch.x as never, { training: false });
    });
  }

  private flatBatch(b: TensorBatch): Tensor[] {
    return [...leaves(b.x), ...leaves(b.y), ...leaves(b.sampleWeight)];
  }

  private compiledFor(kind: 'train' | 'test' | 'predict', batch: TensorBatch, step: (b: TensorBatch) => Record<string, Tensor>): CompiledStep | null {
    const flat = this.flatBatch(batch);
    const cached = kind === 'train' ? this.compiledTrain : kind === 'test' ? this.compiledTest : this.compiledPredict;
    if (cached && fitsSignature(cached.signature, batch, flat)) return cached;
    const signature = stepSignature(batch, flat);
    const specs = flat.map((t) => ({ shape: [null, ...t.shape.slice(1)], dtype: t.dtype }));
    let keys: string[] = [];
    let graph;
    try {
      graph = trace((...inputs: Tensor[]) => {
        const pos = { i: 0 };
        const b: TensorBatch = { x: rebuild(batch.x, inputs, pos)!, y: rebuild(batch.y, inputs, pos), sampleWeight: rebuild(batch.sampleWeight, inputs, pos) };
        const logs = step(b);
        keys = Object.keys(logs);
        return Object.values(logs);
      }, specs, { inference: kind !== 'train' });
    } catch (e) {
      if (this.jit === true) throw e;
      // 'auto': value-dependent Python-style control flow cannot be traced; run eagerly.
      this.jit = false;
      return null;
    }
    const compiled = { keys, exe: getBackend(leaves(batch.x)[0].backend?.name).compile(graph), signature };
    if (kind === 'train') this.compiledTrain = compiled;
    else if (kind === 'test') this.compiledTest = compiled;
    else this.compiledPredict = compiled;
    return compiled;
  }

  /**
   * predictStep's outputs for a batch, compiled into one graph when possible (as train and
   * test steps are): one native call instead of one per op, with the forward's elementwise
   * chains fused.
   */
  private predictBatch(batch: TensorBatch): Tensor[] {
    const { compiled } = this.prepareStep('predict', batch);
    if (!compiled) return tidy(() => this.predictStep(batch));
    return compiled.exe.runSync(this.flatBatch(batch));
  }

  private resetMetrics(): void {
    tidy(() => {
      for (const m of this.metrics) m.resetState();
    });
  }

  /** Trains the model (Keras fit). Resolves with the History. */
  async fit(x: DataLike | Dataset, y?: DataLike, args: FitArgs = {}): Promise<History> {
    this.ensureCompiled('fit');
    const { batchSize = 32, epochs = 1, initialEpoch = 0, shuffle = true, validationFreq = 1 } = args;
    const verbose = args.verbose === undefined || args.verbose === 'auto' ? 1 : args.verbose;
    let sampleWeight = args.sampleWeight;
    let source = dataSource(x, y, undefined, batchSize, shuffle);
    let validation: ReturnType<typeof dataSource> | null = null;
    const made: (ArrayData | undefined)[] = [source.data];
    if (source.data) {
      let data = source.data;
      if (args.classWeight) sampleWeight = this.classWeightsToSampleWeights(data.y, args.classWeight);
      if (sampleWeight !== undefined) made.push((data = new ArrayData(data.x, data.y, toTensors(sampleWeight as DataLike, 'sampleWeight'), false)));
      if (args.validationSplit) {
        const [train, val] = data.split(args.validationSplit);
        made.push(train, val);
        data = train;
        validation = { steps: val.steps(args.validationBatchSize ?? batchSize), epoch: () => val.batches(args.validationBatchSize ?? batchSize, false, 0), data: val };
      }
      const d = data;
      source = { steps: d.steps(batchSize), epoch: (seed) => d.batches(batchSize, shuffle, seed), data: d };
    } else if (args.validationSplit) throw new ValueError('validationSplit is only supported for array inputs, not datasets');
    if (args.validationData) {
      const vd = args.validationData;
      validation = isDataset(vd)
        ? dataSource(vd, undefined, undefined, batchSize, false)
        : dataSource((vd as DataLike[])[0], (vd as DataLike[])[1], (vd as TensorLike[])[2], args.validationBatchSize ?? batchSize, false);
    }
    const steps = args.stepsPerEpoch ?? source.steps;
    const callbacks = standardCallbacks(args.callbacks ?? [], verbose, true);
    const history = callbacks.callbacks.find((c): c is History => c instanceof History)!;
    callbacks.setModel(this);
    callbacks.setParams({ epochs, steps, verbose });
    this.history = history;
    this.stopTraining = false;
    this.inFit = true;
    try {
      await callbacks.call('onTrainBegin', {});
      for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        this.resetMetrics();
        await callbacks.call('onEpochBegin', epoch, {});
        let logs: Logs = {};
        let stepIndex = 0;
        for await (const batch of source.epoch(1337 + epoch)) {
          if (args.stepsPerEpoch !== undefined && stepIndex >= args.stepsPerEpoch) break;
          await callbacks.call('onTrainBatchBegin', stepIndex, {});
          logs = await this.runStepAsync('train', batch);
          for (const t of batch.owned ?? []) t.dispose();
          await callbacks.call('onTrainBatchEnd', stepIndex, logs);
          stepIndex++;
          await nextTick();
          if (this.stopTraining) break;
        }
        const epochLogs: Logs = { ...logs };
        if (validation && (epoch + 1 - initialEpoch) % validationFreq === 0) {
          const valLogs = await this.evaluateSource(validation, callbacks, args.validationSteps);
          for (const [k, v] of Object.entries(valLogs)) epochLogs[`val_${k}`] = v;
        }
        await callbacks.call('onEpochEnd', epoch, epochLogs);
      }
      await callbacks.call('onTrainEnd', {});
    } finally {
      this.inFit = false;
      disposeCreated([...made, validation?.data], [x, y, args.sampleWeight, args.validationData]);
    }
    return history;
  }

  private classWeightsToSampleWeights(y: Structured | undefined, classWeight: Record<number, number>): Tensor {
    if (!(y instanceof Tensor)) throw new ValueError('classWeight is only supported for a single output with array targets');
    const labels = y.rank > 1 && y.shape[y.rank - 1] !== 1 ? ops.argmax(y, -1) : ops.reshape(ops.cast(y, 'int32'), [-1]);
    const values = labels.dataSync();
    const w = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) w[i] = classWeight[values[i]] ?? 1;
    return ops.convertToTensor(w);
  }

  private async evaluateSource(source: ReturnType<typeof dataSource>, callbacks: CallbackList, maxSteps?: number): Promise<Logs> {
    this.resetMetrics();
    await callbacks.call('onTestBegin', {});
    let logs: Logs = {};
    let i = 0;
    for await (const batch of source.epoch(0)) {
      if (maxSteps !== undefined && i >= maxSteps) break;
      await callbacks.call('onTestBatchBegin', i, {});
      logs = await this.runStepAsync('test', batch);
      for (const t of batch.owned ?? []) t.dispose();
      await callbacks.call('onTestBatchEnd', i, logs);
      i++;
      await nextTick();
    }
    await callbacks.call('onTestEnd', logs);
    return logs;
  }

  /** Returns the loss and metric values on data (a dict with returnDict). */
  async evaluate(x: DataLike | Dataset, y?: DataLike, args: EvaluateArgs = {}): Promise<number | number[] | Logs> {
    this.ensureCompiled('evaluate');
    const verbose = args.verbose === undefined || args.verbose === 'auto' ? 1 : args.verbose;
    const source = dataSource(x, y, args.sampleWeight, args.batchSize ?? 32, false);
    const callbacks = standardCallbacks(args.callbacks ?? [], verbose, false);
    callbacks.setModel(this);
    callbacks.setParams({ epochs: 1, steps: args.steps ?? source.steps, verbose });
    let logs: Logs;
    try {
      logs = await this.evaluateSource(source, callbacks, args.steps);
    } finally {
      disposeCreated([source.data], [x, y, args.sampleWeight]);
    }
    if (args.returnDict) return logs;
    const values = this.metricsNames.map((n) => logs[n]);
    return values.length === 1 ? values[0] : values;
  }

  /** Runs the model in inference mode over batches and concatenates the outputs. */
  async predict(x: DataLike | Dataset, args: PredictArgs = {}): Promise<Tensor | Tensor[]> {
    const batchSize = args.batchSize ?? 32;
    const verbose = args.verbose === undefined || args.verbose === 'auto' ? 1 : args.verbose;
    const source = dataSource(x, undefined, undefined, batchSize, false, false);
    const callbacks = standardCallbacks(args.callbacks ?? [], verbose, false);
    callbacks.setModel(this);
    callbacks.setParams({ epochs: 1, steps: args.steps ?? source.steps, verbose });
    await callbacks.call('onPredictBegin', {});
    const chunks: Tensor[][] = [];
    let i = 0;
    for await (const batch of source.epoch(0)) {
      if (args.steps !== undefined && i >= args.steps) break;
      await callbacks.call('onPredictBatchBegin', i, {});
      const outs = this.predictBatch(batch);
      for (const t of batch.owned ?? []) t.dispose();
      chunks.push(outs);
      await callbacks.call('onPredictBatchEnd', i, {});
      i++;
      await nextTick();
    }
    await callbacks.call('onPredictEnd', {});
    disposeCreated([source.data], [x]);
    if (!chunks.length) throw new ValueError('predict: received no data');
    const result = chunks[0].map((_, k) => {
      const parts = chunks.map((c) => c[k]);
      const joined = parts.length === 1 ? parts[0] : ops.concatenate(parts, 0);
      if (parts.length > 1) for (const p of parts) p.dispose();
      return joined;
    });
    return result.length === 1 ? result[0] : result;
  }

  /** One gradient update on one batch; returns the logs (Keras train_on_batch). */
  trainOnBatch(x: DataLike, y?: DataLike, sampleWeight?: TensorLike): Logs {
    this.ensureCompiled('trainOnBatch');
    this.resetMetrics();
    const batch: TensorBatch = { x: toTensors(x, 'x')!, y: toTensors(y, 'y'), sampleWeight: toTensors(sampleWeight as DataLike, 'sampleWeight') };
    return this.runStep('train', batch);
  }

  /** Loss and metrics on one batch (Keras test_on_batch). */
  testOnBatch(x: DataLike, y?: DataLike, sampleWeight?: TensorLike): Logs {
    this.ensureCompiled('testOnBatch');
    this.resetMetrics();
    const batch: TensorBatch = { x: toTensors(x, 'x')!, y: toTensors(y, 'y'), sampleWeight: toTensors(sampleWeight as DataLike, 'sampleWeight') };
    return this.runStep('test', batch);
  }

  /** Outputs for one batch in inference mode (Keras predict_on_batch). */
  predictOnBatch(x: DataLike): Tensor | Tensor[] {
    const batch = batchFrom({ x });
    const outs = this.predictBatch(batch);
    for (const t of batch.owned ?? []) t.dispose();
    return outs.length === 1 ? outs[0] : outs;
  }
}

void keep;
