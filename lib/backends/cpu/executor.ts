/**
 * The cpu backend's graph executor (JS side). A compiled graph becomes a plan the
 * engine runs in one native call (native/engine/executor.h): a topologically ordered
 * op list over numbered slots with concrete shapes, the feeds, constants (native
 * tensors captured once), variables (their current native tensors, passed to every
 * run, never copied) and outputs. The batch dim is resolved per run: one native
 * executable per feed-shape signature, cached.
 *
 * After a run, each updated variable gets its new native tensor, installed with
 * Variable.setConcrete, so reading a variable from JS keeps working. A variable whose
 * tensor no other JS tensor shares is offered to the engine for in-place updates
 * (the optimizer writes into the variable's buffer); while a `run()` is in flight,
 * such a variable may be read half-updated.
 */
import type { DType } from '../../dtype.js';
import { KerasError, ShapeError, asKerasError, fmtShape } from '../../errors.js';
import type { Attrs, TensorSpec } from '../../ops/registry.js';
import { state } from '../../state.js';
import type { OpNode, Tensor } from '../../tensor.js';
import type { Graph } from '../../ir/graph.js';
import { Variable } from '../../variable.js';
import type { Executable } from '../backend.js';
import type { NativeAddon, NativeAttrList, NativeDType, NativeTensor } from './native.js';

/** One slot of the plan: a value with a concrete shape. */
export interface PlanSlot {
  dtype: NativeDType;
  shape: number[];
}

/** What the engine receives (see native/binding/executable.cc). */
export interface NativePlan {
  slots: PlanSlot[];
  steps: { op: string; inputs: number[]; outputs: number[]; attrs: NativeAttrList }[];
  feeds: number[];
  constants: { slot: number; tensor: NativeTensor }[];
  variables: number[];
  outputs: number[];
  updates: { variable: number; slot: number }[];
}

/** Counters of one run, measured by the engine. */
export interface RunStats {
  /** Most bytes of buffers the run allocated that were alive at once. */
  peakBytes: number;
  /** Bytes of all buffers the run allocated. */
  allocatedBytes: number;
  /** Kernels and fused chains that wrote into an input's buffer instead of a new one. */
  inPlace: number;
  /** Kernel calls plus fused passes. */
  kernels: number;
}

/**
 * The engine's schedule: each group is one kernel call, a view (no work), a fused elementwise
 * chain, or a concatenation whose inputs were written into its buffer by their producers
 * (joined: no work).
 */
export interface ExecutorPlan {
  groups: {
    kind: 'kernel' | 'view' | 'fused' | 'joined';
    ops: string[];
    steps: number[];
    /** Slot whose buffer the (first) output may take over, or -1. */
    inPlaceInput: number;
    /** The same for the later outputs of a kernel whose outputs are elementwise in its inputs (adamUpdate). */
    moreInPlaceInputs: number[];
    /** Steps of a fused chain, besides its last, whose values are results (graph outputs, variable updates) written by the same pass. */
    stores: number[];
    /** Runs at the same time as the next group, on another thread (two light groups that do not read each other's values). */
    concurrentWithNext: boolean;
  }[];
  /** Intermediate bytes alive at once under the schedule, if every in-place candidate is taken. */
  plannedPeakBytes: number;
}

interface NativeRunResult {
  outputs: NativeTensor[];
  updates: NativeTensor[];
  stats: RunStats;
}

/** The addon's executable (native/binding/executable.cc). */
export interface NativeGraph {
  run(feeds: NativeTensor[], variables: NativeTensor[], donate: boolean[]): Promise<NativeRunResult>;
  runSync(feeds: NativeTensor[], variables: NativeTensor[], donate: boolean[]): NativeRunResult;
  plan(): ExecutorPlan;
  dispose(): void;
}

/** The addon with the executor's entry point (absent from builds that predate it). */
export type ExecutorAddon = NativeAddon & { compileGraph?: (plan: NativePlan) => NativeGraph };

/** What the executor needs from the cpu backend. */
export interface ExecutorHost {
  readonly addon: ExecutorAddon;
  readonly name: string;
  /** The native tensor of a cpu tensor, with that tensor's shape. */
  nativeOf(t: Tensor): NativeTensor;
  /** A cpu Tensor over a native tensor of `shape` (joins the current tidy scope). */
  adopt(t: NativeTensor, dtype: DType, shape: readonly number[]): Tensor;
  /** True when `t` is the only JS tensor over its native tensor, so the engine may overwrite it. */
  soleOwner(t: Tensor): boolean;
  /** Attributes as the addon takes them. */
  attrs(attrs: Attrs): NativeAttrList;
}

/** Async runs of any native executable not settled yet. */
let asyncRunsInFlight = 0;

/**
 * `run()` of a graph whose last run took less than this (ms) runs it on the calling thread:
 * handing a run to the engine's dispatch thread and back costs two thread wake-ups, 0.1-0.2
 * ms in a VM, more than such a graph's work (a small model's train step in `fit`).
 */
export const INLINE_RUN_BELOW_MS = 1;
/** `run()` yields to the event loop at least this often (ms) while it works on the calling thread (inline runs here, small nodes of the interpreted executable). */
export const YIELD_EVERY_MS = 8;
/** When an inline run last let the event loop turn (shared: there is one event loop). */
let lastInlineYield = 0;

const NATIVE_DTYPES = new Set<string>(['float32', 'float64', 'int32', 'bool']);
/** Ops the executor runs as views of their input's buffer (as the cpu backend does). */
export const EXECUTOR_VIEW_OPS = new Set(['identity', 'stopGradient', 'reshape']);

/**
 * Why the native executor cannot run `graph` (null when it can): every node needs a
 * native kernel (or is a view op) and every value a dtype the engine stores.
 */
export function nativeExecutorBlocker(graph: Graph, nativeOps: ReadonlySet<string>, addon: ExecutorAddon): string | null {
  if (typeof addon.compileGraph !== 'function') return 'the native addon has no graph executor (rebuild it)';
  const missing = new Set<string>();
  for (const n of graph.nodes) if (!nativeOps.has(n.op.name) && !EXECUTOR_VIEW_OPS.has(n.op.name)) missing.add(n.op.name);
  if (missing.size) return `no native kernel for ${[...missing].sort().join(', ')}`;
  const values = [...graph.placeholders.keys(), ...graph.nodes.flatMap((n) => n.outputs)];
  const bad = values.find((t) => !NATIVE_DTYPES.has(t.dtype));
  if (bad) return `dtype ${bad.dtype} is not stored by the engine`;
  return null;
}

/** A run's native arguments. */
interface Prepared {
  compiled: Compiled;
  feeds: NativeTensor[];
  vars: NativeTensor[];
  donate: boolean[];
}

interface Compiled {
  native: NativeGraph;
  outputDTypes: DType[];
  /** The outputs' shapes for this feed signature. */
  outputShapes: number[][];
  /** Wall time of the last run (ms; an async run's includes its hand-offs); Infinity before the first. */
  lastRunMs: number;
}

/**
 * A graph run by the native executor. `fallback` (the interpreted executable) runs
 * calls whose feeds or variables live on another backend.
 */
export class NativeGraphExecutable implements Executable {
  /** Which executor runs this graph. */
  readonly executor = 'native';
  private readonly bySignature = new Map<string, Compiled>();
  private last: Compiled | null = null;
  private stats: RunStats | null = null;
  /** Variables in the order the engine sees them: those read, then those only assigned. */
  private readonly variables: Variable[];
  /** Variables the graph assigns. */
  private readonly updated: Variable[];
  private disposed = false;

  constructor(
    private readonly graph: Graph,
    private readonly host: ExecutorHost,
    private readonly fallback: Executable,
  ) {
    const vars = graph.variableReads.map((r) => r.variable);
    for (const u of graph.updates) if (!vars.includes(u.variable)) vars.push(u.variable);
    this.variables = vars;
    this.updated = graph.updates.map((u) => u.variable);
  }

  /**
   * Runs the graph off the event loop: one native call on the engine's dispatch thread;
   * resolves with the outputs after installing variable updates. A graph whose last run
   * took under {@link INLINE_RUN_BELOW_MS} runs on the calling thread instead, yielding to
   * the event loop every {@link YIELD_EVERY_MS} of such runs (the hand-off would cost more
   * than the work).
   */
  async run(feeds: Tensor[]): Promise<Tensor[]> {
    let call = this.prepare(feeds);
    if (!call) return this.fallback.run(feeds);
    // Inline only with no async run in flight: runs stay one after another, as on the dispatch thread.
    const inline = (c: Prepared) => c.compiled.lastRunMs < INLINE_RUN_BELOW_MS && asyncRunsInFlight === 0;
    if (inline(call)) {
      if (performance.now() - lastInlineYield >= YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastInlineYield = performance.now();
        call = this.prepare(feeds); // the variables may have moved on meanwhile
        if (!call) return this.fallback.run(feeds);
      }
      if (inline(call)) {
        const ready = call;
        return detached(() => this.finish(ready.compiled, this.timed(ready.compiled, () => ready.compiled.native.runSync(ready.feeds, ready.vars, ready.donate))));
      }
    }
    const { compiled } = call;
    asyncRunsInFlight++;
    const started = performance.now();
    let result: NativeRunResult;
    try {
      result = await Variable.whileUpdating(this.updated, () => compiled.native.run(call.feeds, call.vars, call.donate));
    } catch (error) {
      throw asKerasError(error);
    } finally {
      asyncRunsInFlight--;
    }
    compiled.lastRunMs = performance.now() - started;
    // Outputs settle outside any tidy scope: the awaiting caller owns them.
    return detached(() => this.finish(compiled, result));
  }

  /** Runs the graph on the calling thread (small predict calls); outputs join the current tidy scope. */
  runSync(feeds: Tensor[]): Tensor[] {
    const call = this.prepare(feeds);
    if (!call) return this.fallback.runSync(feeds);
    return this.finish(call.compiled, this.timed(call.compiled, () => call.compiled.native.runSync(call.feeds, call.vars, call.donate)));
  }

  /** A synchronous native run, its wall time kept for run()'s choice. */
  private timed(compiled: Compiled, runSync: () => NativeRunResult): NativeRunResult {
    const started = performance.now();
    let result: NativeRunResult;
    try {
      result = runSync();
    } catch (error) {
      throw asKerasError(error);
    }
    compiled.lastRunMs = performance.now() - started;
    return result;
  }

  /**
   * The engine's schedule for the most recent feed signature (or for `feeds`' shapes):
   * which ops run as one kernel, which are views, which elementwise chains are fused.
   */
  plan(feeds?: Tensor[]): ExecutorPlan | null {
    if (feeds) {
      this.checkFeeds(feeds);
      return this.compiledFor(feeds).native.plan();
    }
    return this.last ? this.last.native.plan() : null;
  }

  /** Counters of the last completed run (peak bytes, in-place writes, kernel calls). */
  lastRunStats(): RunStats | null {
    return this.stats;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.bySignature.values()) c.native.dispose();
    this.bySignature.clear();
    this.last = null;
    this.fallback.dispose();
  }

  private prepare(feeds: Tensor[]): Prepared | null {
    if (this.disposed) throw new KerasError('executable: run after dispose()');
    this.checkFeeds(feeds);
    const values = this.variables.map((v) => v.concreteValue);
    // Values on another backend (a model built before setBackend('cpu')): the interpreter copes.
    if ([...feeds, ...values].some((t) => t.backend?.name !== this.host.name)) return null;
    const compiled = this.compiledFor(feeds);
    return {
      compiled,
      feeds: feeds.map((f) => this.host.nativeOf(f)),
      vars: values.map((t) => this.host.nativeOf(t)),
      // Two runs in flight must not both write into one variable's buffer: donate only when alone.
      donate: values.map((t) => asyncRunsInFlight === 0 && this.host.soleOwner(t)),
    };
  }

  private finish(compiled: Compiled, result: NativeRunResult): Tensor[] {
    this.stats = result.stats;
    // Shapes from the plan: asking the engine would cost a native call per value.
    const outputs = result.outputs.map((t, i) => this.host.adopt(t, compiled.outputDTypes[i], compiled.outputShapes[i]));
    detached(() => {
      this.graph.updates.forEach((u, i) => {
        const value = this.host.adopt(result.updates[i], u.variable.dtype, u.variable.shape);
        u.variable.setConcrete(value); // takes its own handle on the storage
        value.dispose();
      });
    });
    return outputs;
  }

  private checkFeeds(feeds: readonly Tensor[]): void {
    const inputs = this.graph.inputs;
    if (feeds.length !== inputs.length) throw new KerasError(`graph expects ${inputs.length} inputs, received ${feeds.length}`);
    feeds.forEach((f, i) => {
      const spec = inputs[i];
      if (f.dtype !== spec.dtype || f.rank !== spec.rank || spec.shape.some((d, k) => d !== null && d !== f.shape[k])) {
        throw new ShapeError(`graph input ${i}: expected ${spec.dtype} ${fmtShape(spec.shape)}, received ${f.dtype} ${fmtShape(f.shape)}`);
      }
    });
  }

  private compiledFor(feeds: readonly Tensor[]): Compiled {
    const key = feeds.map((f) => f.shape.join(',')).join(';');
    let c = this.bySignature.get(key);
    if (!c) {
      const plan = this.buildPlan(feeds);
      c = {
        native: this.host.addon.compileGraph!(plan),
        outputDTypes: this.graph.outputs.map((t) => t.dtype),
        outputShapes: plan.outputs.map((s) => plan.slots[s].shape),
        lastRunMs: Infinity,
      };
      this.bySignature.set(key, c);
    }
    this.last = c;
    return c;
  }

  /** Slots, steps and sources for these feed shapes; node shapes re-inferred with the batch dim known. */
  private buildPlan(feeds: readonly Tensor[]): NativePlan {
    const slotOf = new Map<Tensor, number>();
    const slots: PlanSlot[] = [];
    const addSlot = (t: Tensor, shape: number[]) => {
      slotOf.set(t, slots.length);
      slots.push({ dtype: t.dtype as NativeDType, shape });
      return slots.length - 1;
    };
    const plan: NativePlan = { slots, steps: [], feeds: [], constants: [], variables: [], outputs: [], updates: [] };
    const variableIndex = new Map<Variable, number>(this.variables.map((v, i) => [v, i]));
    const variableSlots: number[] = new Array(this.variables.length).fill(-1);
    // Common subexpressions: a small constant equal to an earlier one, and then a node with the
    // op, attrs and input slots of an earlier one, take the earlier slots (every weight's Adam
    // update computed the same step-size scalars from the same iteration count).
    const seen = new Map<string, number[]>();
    const alias = (t: Tensor, slot: number) => slotOf.set(t, slot);
    for (const [t, p] of this.graph.placeholders) {
      if (p.kind === 'input') plan.feeds[p.index] = addSlot(t, [...feeds[p.index].shape]);
      else if (p.kind === 'constant') {
        const key = p.value.size <= 16 ? `constant|${p.value.dtype}|${p.value.shape.join(',')}|${numbersKey(Array.from(p.value.values()))}` : '';
        const earlier = key ? seen.get(key) : undefined;
        if (earlier) {
          alias(t, earlier[0]!);
          continue;
        }
        plan.constants.push({ slot: addSlot(t, [...p.value.shape]), tensor: this.host.nativeOf(p.value) });
        if (key) seen.set(key, [slotOf.get(t)!]);
      } else variableSlots[variableIndex.get(p.variable)!] = addSlot(t, [...p.variable.shape]);
    }
    this.graph.inputs.forEach((t, i) => {
      // An input the graph never reads still takes a feed.
      if (plan.feeds[i] === undefined) plan.feeds[i] = addSlot(t, [...feeds[i].shape]);
    });
    // Variables only assigned get a slot nothing reads (the engine checks the update against it).
    this.variables.forEach((v, i) => {
      if (variableSlots[i] < 0) {
        variableSlots[i] = slots.length;
        slots.push({ dtype: v.dtype as NativeDType, shape: [...v.shape] });
      }
    });
    plan.variables = variableSlots;
    const schedule = scheduleForInPlaceUpdates(this.graph);
    // A matrix read transposed by several products (an RNN's recurrent kernel in the backward
    // pass, once per timestep) is transposed once: each product packed its B from the
    // transposed layout again, where a row-major B is read in place.
    const transposedReads = new Map<Tensor, number>();
    for (const node of schedule) {
      const b = node.inputs[1];
      if (node.op.name === 'matmul' && node.attrs.transposeB && b && b.rank === 2) transposedReads.set(b, (transposedReads.get(b) ?? 0) + 1);
    }
    const transposedSlot = new Map<number, number>();
    const transposeOnce = (b: number): number => {
      let t = transposedSlot.get(b);
      if (t === undefined) {
        const [rows, cols] = slots[b]!.shape;
        t = slots.length;
        slots.push({ dtype: slots[b]!.dtype, shape: [cols!, rows!] });
        plan.steps.push({ op: 'transpose', inputs: [b], outputs: [t], attrs: this.host.attrs({ perm: [1, 0] }) });
        transposedSlot.set(b, t);
      }
      return t;
    };
    // The slot whose buffer a view (reshape, identity) shows, for the views' slots.
    const viewRoot = new Map<number, number>();
    // A concatenation whose axes before `axis` are all 1 lays its inputs' bytes end to end: one
    // of the buffers of an earlier one, in the same order, through views, has its bytes, and
    // becomes a reshape of it. (The gradient of an LSTM's timesteps is concatenated twice,
    // [T, b, 4u] for the input projection's slices and [T * b, 4u] for the recurrent kernel's
    // merged product.)
    const blockConcatenationKey = (ins: number[], axis: number): string | null => {
      const shapes = ins.map((s) => slots[s]!.shape);
      if (shapes.some((shape) => shape.slice(0, axis).some((d) => d !== 1))) return null;
      return `blockConcatenation|${slots[ins[0]!]!.dtype}|${ins.map((s) => viewRoot.get(s) ?? s).join(',')}`;
    };
    // A broadcastTo waits until a reader needs its value: a binary elementwise op whose other
    // operand has its full shape reads its input instead and broadcasts it itself (a loss's
    // reduction's gradient, [b, 1] to [b, classes], before the multiply by the labels: one
    // tensor of the logits' size neither written nor read).
    const deferred = new Map<number, NativePlan['steps'][number]>();
    const materialize = (slot: number) => {
      const step = deferred.get(slot);
      if (!step) return;
      deferred.delete(slot);
      materialize(step.inputs[0]!); // a broadcastTo of a broadcastTo
      plan.steps.push(step);
    };
    const sameShape = (a: number, b: number) => slots[a]!.shape.length === slots[b]!.shape.length && slots[a]!.shape.every((d, i) => d === slots[b]!.shape[i]);
    for (const node of schedule) {
      let ins = node.inputs.map((t) => {
        const s = slotOf.get(t);
        if (s === undefined) throw new KerasError(`graph: ${node.op.name} reads a value that was never produced`);
        return s;
      });
      ins = ins.map((s, k) => {
        const step = deferred.get(s);
        if (!step) return s;
        const other = ins[1 - k];
        if (node.op.category === 'binary' && ins.length === 2 && other !== undefined && other !== s && !deferred.has(other) && sameShape(other, s)) {
          materialize(step.inputs[0]!);
          return step.inputs[0]!;
        }
        materialize(s);
        return s;
      });
      let attrs = node.attrs;
      if (node.op.name === 'matmul' && attrs.transposeB && (transposedReads.get(node.inputs[1]!) ?? 0) > 1) {
        ins = [ins[0]!, transposeOnce(ins[1]!)];
        attrs = { ...attrs, transposeB: false };
      }
      const key = `${node.op.name}|${numbersKey(attrs)}|${ins.join(',')}`;
      const earlier = seen.get(key);
      if (earlier) {
        node.outputs.forEach((o, k) => alias(o, earlier[k]!));
        continue;
      }
      const specs: TensorSpec[] = ins.map((slot, k) => ({ shape: slots[slot]!.shape, dtype: node.inputs[k]!.dtype }));
      const outs = node.op.infer(specs, attrs);
      const outSlots = node.outputs.map((o, k) => {
        const shape = outs[k].shape;
        if (shape.some((d) => d === null)) throw new ShapeError(`${node.op.name}: output ${k} has an unknown dim ${fmtShape(shape)} with inputs ${specs.map((s) => fmtShape(s.shape)).join(', ')}`);
        return addSlot(o, shape as number[]);
      });
      const blockKey = node.op.name === 'concatenate' ? blockConcatenationKey(ins, attrs.axis as number) : null;
      const sameBytes = blockKey === null ? undefined : seen.get(blockKey);
      if (sameBytes) {
        plan.steps.push({ op: 'reshape', inputs: sameBytes, outputs: outSlots, attrs: this.host.attrs({ shape: slots[outSlots[0]!]!.shape }) });
        viewRoot.set(outSlots[0]!, viewRoot.get(sameBytes[0]!) ?? sameBytes[0]!);
        continue;
      }
      if (blockKey !== null) seen.set(blockKey, outSlots);
      if (EXECUTOR_VIEW_OPS.has(node.op.name)) viewRoot.set(outSlots[0]!, viewRoot.get(ins[0]!) ?? ins[0]!);
      const step = { op: node.op.name, inputs: ins, outputs: outSlots, attrs: this.host.attrs(attrs) };
      if (node.op.name === 'broadcastTo') deferred.set(outSlots[0]!, step);
      else plan.steps.push(step);
      seen.set(key, outSlots);
    }
    plan.outputs = this.graph.outputs.map((t) => {
      const s = slotOf.get(t);
      if (s === undefined) throw new KerasError('graph: an output was never produced');
      return s;
    });
    plan.updates = this.graph.updates.map((u) => ({ variable: variableIndex.get(u.variable)!, slot: slotOf.get(u.value)! }));
    for (const s of [...plan.outputs, ...plan.updates.map((u) => u.slot)]) materialize(s);
    return plan;
  }
}

/** JSON of attrs or constant values that tells apart every number they can hold (JSON alone folds -0 into 0 and NaN, ±Infinity into null). */
function numbersKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v)) ? `#${Object.is(v, -0) ? '-0' : v}` : v));
}

/**
 * The graph's nodes in a topological order where, for each updated variable, the
 * node computing its new value from its old one runs after the old value's other
 * readers (e.g. the optimizer's `w - lr * g` after the backward pass's `dy @ wᵀ`), so
 * the engine can write the new value into the old buffer. The trace's own order is
 * kept otherwise.
 */
export function scheduleForInPlaceUpdates(graph: Graph): OpNode[] {
  const nodes = graph.nodes;
  const producer = new Map<Tensor, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const users: number[][] = nodes.map(() => []);
  const pending = nodes.map((n, i) => {
    const deps = new Set<number>();
    for (const t of n.inputs) {
      const p = producer.get(t);
      if (p !== undefined) deps.add(p);
    }
    for (const d of deps) users[d].push(i);
    return deps.size;
  });
  // deferUntil[i]: readers of the same variable that node i should wait for.
  const deferUntil = new Map<number, number[]>();
  const reachable = (from: number[], next: (i: number) => number[]) => {
    const seen = new Set<number>(from);
    const stack = [...from];
    while (stack.length) for (const j of next(stack.pop()!)) if (!seen.has(j)) (seen.add(j), stack.push(j));
    return seen;
  };
  const deps = (i: number) => nodes[i].inputs.map((t) => producer.get(t)).filter((p): p is number => p !== undefined);
  for (const u of graph.updates) {
    const read = graph.variableReads.find((r) => r.variable === u.variable)?.placeholder;
    const root = producer.get(u.value);
    if (!read || root === undefined) continue;
    const readers = nodes.flatMap((n, i) => (n.inputs.includes(read) ? [i] : []));
    if (readers.length < 2) continue;
    const feedsUpdate = reachable([root], deps);
    for (const w of readers) {
      if (!feedsUpdate.has(w)) continue;
      const after = reachable([w], (i) => users[i]);
      const others = readers.filter((r) => r !== w && !after.has(r) && !feedsUpdate.has(r));
      if (others.length) deferUntil.set(w, others);
    }
  }
  const done = new Array<boolean>(nodes.length).fill(false);
  const ready: number[] = [];
  pending.forEach((c, i) => c === 0 && ready.push(i));
  const order: OpNode[] = [];
  while (ready.length) {
    ready.sort((a, b) => a - b);
    let k = ready.findIndex((i) => !(deferUntil.get(i) ?? []).some((r) => !done[r]));
    if (k < 0) k = 0; // every ready node waits on another: keep the trace order
    const [i] = ready.splice(k, 1);
    done[i] = true;
    order.push(nodes[i]);
    for (const j of users[i]) if (--pending[j] === 0) ready.push(j);
  }
  return order;
}

/** Runs `fn` so the tensors it creates join no enclosing tidy scope. */
function detached<T>(fn: () => T): T {
  state.scopes.push([]);
  try {
    return fn();
  } finally {
    state.scopes.pop();
  }
}
