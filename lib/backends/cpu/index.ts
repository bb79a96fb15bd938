/**
 * The `cpu` backend: tensors in native memory (the C++ engine in native/), kernels
 * run by the addon. Ops the engine has no kernel for yet run the `js` kernel on
 * downloaded values and upload the result (the "js fallback"), so every op works
 * on `cpu`; `nativeOps()` / `fallbackOps()` say which is which.
 */
import type { DType, TypedArray } from '../../dtype.js';
import { KerasError, ShapeError, asKerasError, fmtShape } from '../../errors.js';
import type { Attrs } from '../../ops/registry.js';
import { state } from '../../state.js';
import { Tensor } from '../../tensor.js';
import { Variable } from '../../variable.js';
import type { Graph, Placeholder } from '../../ir/graph.js';
import { Graph as GraphClass } from '../../ir/graph.js';
import { interpretedExecutable } from '../../ir/execute.js';
import { allocationFailure, runOp } from '../../engine.js';
import type { Backend, Executable, Kernel, OutputSpec } from '../backend.js';
import { JsBackend } from '../js/index.js';
import { JsStorage } from '../js/storage.js';
import { INLINE_RUN_BELOW_MS, NativeGraphExecutable, YIELD_EVERY_MS, nativeExecutorBlocker, type ExecutorHost } from './executor.js';
import {
  attrList,
  loadNativeAddon,
  type NativeAddon,
  type NativeAttrList,
  type NativeAttrs,
  type NativeAttrValue,
  type NativeBackendInfo,
  type NativeDType,
  NativeTensor,
  type NativeTypedArray,
} from './native.js';

/**
 * Storage of the cpu backend. Shape-free like every backend storage (the shape lives
 * on the Tensor), so reshape is a view: tensors of different shapes share one storage,
 * and the native tensor of each shape is made on first use by a native kernel
 * (a native `reshape` view when the engine has one, else a copy), then cached.
 */
export class CpuStorage {
  refs = 0;
  /** Values uploaded from JS before any kernel needed them with a shape. */
  pending: TypedArray | null = null;
  /** The first native tensor over these values, and its shape (the common, only view). */
  base: NativeTensor | undefined;
  private baseShape: readonly number[] | undefined;
  /** Native tensors of other shapes over the same values, by shape ("2,3"). */
  private others: Map<string, NativeTensor> | null = null;

  constructor(init: NativeTensor | TypedArray, shape?: readonly number[]) {
    if (ArrayBuffer.isView(init)) this.pending = init;
    else {
      this.base = init;
      this.baseShape = shape ?? init.shape;
    }
  }

  /** The native tensor of `shape` over these values, if one was made. */
  view(shape: readonly number[]): NativeTensor | undefined {
    const b = this.baseShape;
    if (b && sameShape(b, shape)) return this.base;
    return this.others?.get(shape.join(','));
  }

  addView(shape: readonly number[], t: NativeTensor): void {
    if (!this.base) {
      this.base = t;
      this.baseShape = [...shape];
    } else (this.others ??= new Map()).set(shape.join(','), t);
  }

  get viewCount(): number {
    return (this.base ? 1 : 0) + (this.others?.size ?? 0);
  }

  /** Frees every native tensor over these values. */
  disposeViews(): void {
    this.base?.dispose();
    if (this.others) for (const t of this.others.values()) t.dispose();
    this.base = this.baseShape = undefined;
    this.others = null;
  }
}

/** Shape equality as a plain loop: the hot path of every native kernel call. */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a slice of `size` out of `shape` is one contiguous block: dims of size 1, one partial dim, then whole dims. */
function isBlock(shape: readonly number[], size: readonly number[]): boolean {
  let d = 0;
  while (d < size.length && size[d] === 1) d++;
  for (let e = d + 1; e < size.length; e++) if (size[e] !== shape[e]) return false;
  return true;
}

/** What `backendInfo()` reports for the cpu backend. */
export interface CpuBackendInfo extends NativeBackendInfo {
  backend: 'cpu';
  /** Primitive ops run by a native kernel. */
  nativeOps: string[];
  /** Primitive ops that share their input's storage (reshape, identity, stopGradient). */
  viewOps: string[];
  /** Primitive ops run by the js kernel on downloaded values (no native kernel yet). */
  fallbackOps: string[];
  /** How `Executable.run()` executes a compiled graph. */
  executor: string;
}

const toNativeDType = (dtype: DType, op: string): NativeDType => {
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'int32' || dtype === 'bool') return dtype;
  throw new KerasError(`${op}: dtype ${dtype} is not supported by the cpu backend`);
};

/** An attribute's value as the addon takes it: nested arrays (pad's paddings, conv's padding pairs) flattened row-major; unknown dims (null, e.g. a traced batch) as -1, which kernels resolve from their inputs. */
function nativeAttrValue(value: NonNullable<Attrs[string]>): NativeAttrValue {
  if (!Array.isArray(value)) return value as NativeAttrValue;
  // A flat list of numbers (axes, a shape) goes as it is: the addon only reads it.
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'number') return (value as unknown[]).flat(Infinity).map((v) => (v === null ? -1 : v)) as number[];
  }
  return value as number[];
}

/** Attributes as runKernel takes them (each value as nativeAttrValue makes it; null and undefined left out). */
export function nativeAttrs(attrs: Attrs): NativeAttrs {
  const out: NativeAttrs = {};
  for (const key in attrs) {
    const value = attrs[key];
    if (value !== undefined && value !== null) out[key] = nativeAttrValue(value);
  }
  return out;
}

/** Attributes as the raw addon takes them (name, value, ...): the hot path of every kernel call with attributes. */
export function nativeAttrList(attrs: Attrs): NativeAttrList {
  return attrList(attrs, nativeAttrValue);
}

/** True when `attrs` holds at least one defined value. */
function hasAttrs(attrs: Attrs): boolean {
  for (const key in attrs) if (attrs[key] !== undefined && attrs[key] !== null) return true;
  return false;
}

/** Ops whose result is the input's storage seen with another shape (no kernel, no copy). */
const VIEW_OPS = new Set(['identity', 'stopGradient', 'reshape']);

/** Nodes whose inputs or outputs hold at least this many elements run off the event loop in `run()`. */
const ASYNC_MIN_ELEMENTS = 1 << 14;

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  private readonly addon: NativeAddon;
  private readonly js = new JsBackend();
  private readonly native: Set<string>;
  private readonly kernels = new Map<string, Kernel>();
  /** Bytes uploaded but not yet in native memory (see CpuStorage.pending). */
  private pendingBytes = 0;
  /** How many calls of each op had their outputs cross-checked against shape inference. */
  private readonly outputChecks = new Map<string, number>();

  /** Throws NativeBackendUnavailableError (with the reason and how to build) if the addon cannot load. */
  constructor() {
    this.addon = loadNativeAddon();
    this.native = new Set(this.addon.backendInfo().ops);
  }

  // ------------------------------------------------------------- storage

  /** Copies values into backend memory; the native tensor is made when a kernel first needs it with a shape. */
  upload(values: TypedArray, dtype: DType, shape?: readonly number[]): unknown {
    toNativeDType(dtype, 'upload');
    if (shape) return new CpuStorage(new NativeTensor(this.addon.raw, this.addon.raw.createTensor(values as NativeTypedArray, shape, dtype as NativeDType), false), shape);
    const copy = values.slice();
    this.pendingBytes += copy.byteLength;
    return new CpuStorage(copy);
  }

  read(storage: unknown): TypedArray {
    const s = storage as CpuStorage;
    if (s.pending) return s.pending;
    const base = s.base;
    if (!base) throw new KerasError('cpu backend: read of a released tensor');
    return base.read();
  }

  readCopy(storage: unknown): TypedArray {
    // A native read is already a copy of its own; an upload not yet moved is the caller's array.
    const s = storage as CpuStorage;
    return s.pending ? s.pending.slice() : this.read(s);
  }

  async readAsync(storage: unknown): Promise<TypedArray> {
    // NativeTensor.read is a memcpy; there is nothing to wait for.
    return this.readCopy(storage);
  }

  retain(storage: unknown): void {
    (storage as CpuStorage).refs++;
  }

  release(storage: unknown): void {
    const s = storage as CpuStorage;
    if (--s.refs > 0) return;
    if (s.pending) {
      this.pendingBytes -= s.pending.byteLength;
      s.pending = null;
    }
    s.disposeViews();
  }

  /** Bytes held by live native tensors (the addon's count) plus uploads not yet moved to native memory. */
  memoryBytes(): number {
    return this.addon.memoryInfo().liveBytes + this.pendingBytes;
  }

  /** The native tensor holding `t`'s values with `t`'s shape. */
  nativeOf(t: Tensor): NativeTensor {
    const s = t.storage as CpuStorage | null;
    if (!(s instanceof CpuStorage)) throw new KerasError(`cpu backend: tensor ${t.id} of shape ${fmtShape(t.shape)} does not live on the cpu backend`);
    const hit = s.view(t.shape);
    if (hit) return hit;
    let made: NativeTensor;
    if (s.pending) {
      made = new NativeTensor(this.addon.raw, this.addon.raw.createTensor(s.pending as NativeTypedArray, t.shape, toNativeDType(t.dtype, 'upload')), false);
      this.pendingBytes -= s.pending.byteLength;
      s.pending = null;
    } else {
      const base = s.base;
      if (!base) throw new KerasError(`cpu backend: tensor ${t.id} of shape ${fmtShape(t.shape)} was released`);
      const raw = this.addon.raw;
      // The same buffer under the new shape (a copy only of a strided base): a copy per view cost
      // an eager Transformer train step 2.2 ms in 36 reshapes of [2048, 128].
      const id = raw.reshapeView(base.id, t.shape) ?? (raw.runOp(this.addon.opId('reshape'), ['shape', t.shape], base.id) as number);
      made = new NativeTensor(raw, id, false);
    }
    s.addView(t.shape, made);
    return made;
  }

  // ------------------------------------------------------------- kernels

  kernel(op: string): Kernel | undefined {
    let k = this.kernels.get(op);
    if (k) return k;
    if (VIEW_OPS.has(op)) k = (inputs) => [inputs[0].storage]; // a view: the same storage, no copy
    else if (this.native.has(op)) {
      const raw = this.addon.raw;
      const id = this.addon.opId(op);
      const idOf = (t: Tensor) => this.nativeOf(t).id;
      k = (inputs, attrs, outputs) => {
        // No attrs list when there are none: the addon then skips reading one.
        const a = hasAttrs(attrs) ? nativeAttrList(attrs) : undefined;
        // Inputs as arguments, not an array: the common arities without a spread.
        let r: number | number[];
        try {
          if (inputs.length === 1) r = raw.runOp(id, a, idOf(inputs[0]));
          else if (inputs.length === 2) r = raw.runOp(id, a, idOf(inputs[0]), idOf(inputs[1]));
          else r = raw.runOp(id, a, ...inputs.map(idOf));
        } catch (error) {
          throw asKerasError(error);
        }
        return this.wrapOutputs(op, r, outputs);
      };
      if (op === 'slice') {
        // A contiguous block (a timestep of a time-major sequence, a batch of rows) is a view of
        // its input's buffer at an offset; other slices copy.
        const copy = k;
        k = (inputs, attrs, outputs) => {
          const size = outputs[0].shape;
          // The addon checks the block too, and that the input is contiguous; asking it only for
          // blocks spares other slices a second native call.
          const view = isBlock(inputs[0].shape as number[], size) ? raw.sliceView(idOf(inputs[0]), attrs.begin as number[], size) : undefined;
          return view === undefined ? copy(inputs, attrs, outputs) : [new CpuStorage(new NativeTensor(raw, view, false), size)];
        };
      }
    }
    else if (this.js.kernel(op)) k = this.fallback(op);
    if (k) this.kernels.set(op, k);
    return k;
  }

  kernelNames(): string[] {
    return this.js.kernelNames().filter((op) => this.kernel(op));
  }

  /** Primitive ops that run a native kernel. */
  nativeOps(): string[] {
    return this.kernelNames().filter((op) => this.native.has(op) && !VIEW_OPS.has(op)).sort();
  }

  /** Primitive ops that return their input's storage (identity, stopGradient, reshape): no kernel, no copy. */
  viewOps(): string[] {
    return this.kernelNames().filter((op) => VIEW_OPS.has(op)).sort();
  }

  /** Primitive ops that run the js kernel on downloaded values (no native kernel yet). */
  fallbackOps(): string[] {
    return this.kernelNames().filter((op) => !this.native.has(op) && !VIEW_OPS.has(op)).sort();
  }

  /** Instruction set, threads, CPU, build and which ops are native (as keras.config.backendInfo()). */
  backendInfo(): CpuBackendInfo {
    return {
      backend: 'cpu',
      ...this.addon.backendInfo(),
      nativeOps: this.nativeOps(),
      viewOps: this.viewOps(),
      fallbackOps: this.fallbackOps(),
      executor: `native graph executor when every node has a native kernel (one native call per run, off the event loop in run(), except graphs whose last run took under ${INLINE_RUN_BELOW_MS} ms, which run inline and yield every ${YIELD_EVERY_MS} ms); else interpreted: run() sends nodes with >= ${ASYNC_MIN_ELEMENTS} elements to a worker thread and yields every ${YIELD_EVERY_MS} ms`,
    };
  }

  /** Switches the ISA path ('avx512' | 'avx2' | 'portable'; tests and benchmarks). Throws if this CPU lacks it. */
  setIsa(isa: string): void {
    this.addon.setIsa(isa);
  }

  /** Live native bytes, buffers and the allocator cache. */
  memoryInfo(): ReturnType<NativeAddon['memoryInfo']> {
    return this.addon.memoryInfo();
  }

  private wrapOutputs(op: string, ids: number | number[], outputs: OutputSpec[]): CpuStorage[] {
    const raw = this.addon.raw;
    // One output, checked enough times already: the eager hot path, no intermediate arrays.
    // Handles owned by storages are not watched: the GC safety net is their Tensors'.
    if (typeof ids === 'number' && outputs.length === 1 && (this.outputChecks.get(op) ?? 0) >= 32) {
      return [new CpuStorage(new NativeTensor(raw, ids, false), outputs[0].shape)];
    }
    const results = typeof ids === 'number' ? [new NativeTensor(raw, ids, false)] : ids.map((id) => new NativeTensor(raw, id, false));
    if (results.length !== outputs.length) {
      for (const r of results) r.dispose();
      throw new KerasError(`${op}: the native kernel returned ${results.length} outputs, expected ${outputs.length}`);
    }
    // The native shape inference agrees with the TypeScript one (the parity suite checks every
    // op); reading shapes back costs native calls, so each op is cross-checked on its first calls only.
    const checks = this.outputChecks.get(op) ?? 0;
    const check = checks < 32;
    if (check) this.outputChecks.set(op, checks + 1);
    const storages: CpuStorage[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      const want = outputs[i];
      if (check && (r.dtype !== want.dtype || r.shape.length !== want.shape.length || r.shape.some((d, k) => d !== want.shape[k]))) {
        for (const x of results) x.dispose();
        throw new KerasError(`${op}: the native kernel returned output ${i} as ${r.dtype} ${fmtShape(r.shape)}, expected ${want.dtype} ${fmtShape(want.shape)}`);
      }
      storages.push(new CpuStorage(r, want.shape));
    }
    return storages;
  }

  /** The js kernel over downloaded values; outputs are uploaded with their shapes. */
  private fallback(op: string): Kernel {
    const jsKernel = this.js.kernel(op)!;
    return (inputs, attrs, outputs) => {
      // Stand-ins the js kernel reads: backend-less tensors (no tidy scope, no live count) over JsStorage.
      const jsInputs = inputs.map((t) => new Tensor({ shape: t.shape, dtype: t.dtype, storage: new JsStorage(this.read(t.storage)) }));
      const results = jsKernel(jsInputs, attrs, outputs) as JsStorage[];
      return results.map((r, i) => this.upload(r.data, outputs[i].dtype, outputs[i].shape));
    };
  }

  // ------------------------------------------------------------- graphs

  /**
   * Compiles a graph. When every node has a native kernel (or is a view op) and every
   * value has an engine dtype, the native graph executor runs it (./executor.ts: one
   * native call per run, fused elementwise chains, buffers freed at last use, in-place
   * variable updates). Otherwise, or with `executor: 'interpreted'` (also
   * KERAS_CPU_EXECUTOR=interpreted), the graph is interpreted node by node: `runSync`
   * is the plain interpreter; `run` sends large native nodes to a worker thread
   * (runKernelAsync) and yields between small ones, so training keeps the event loop
   * responsive. `executor: 'native'` throws when the native executor cannot run the
   * graph. Constants captured on another backend are copied here once.
   */
  compile(graph: Graph, options: { executor?: 'auto' | 'native' | 'interpreted' } = {}): Executable {
    graph.assertUsable('cpu: compile');
    const copies: Tensor[] = [];
    const placeholders = new Map<Tensor, Placeholder>();
    for (const [t, p] of graph.placeholders) {
      if (p.kind === 'constant' && p.value.backend !== this) {
        // Owned by the executable, not by an enclosing tidy scope.
        const copy = detached(() => new Tensor({ shape: p.value.shape, dtype: p.value.dtype, backend: this, storage: this.upload(p.value.values(), p.value.dtype, p.value.shape) }));
        copies.push(copy);
        placeholders.set(t, { kind: 'constant', value: copy });
      } else placeholders.set(t, p);
    }
    const g = copies.length ? new GraphClass(graph.inputs, graph.nodes, graph.outputs, placeholders, graph.updates) : graph;
    const base = interpretedExecutable(g, this);
    const interpreted: Executable = {
      runSync: base.runSync,
      run: (feeds) => this.runAsync(g, feeds),
      dispose: () => {
        base.dispose();
        graph.dispose();
      },
    };
    const mode = options.executor ?? (process.env.KERAS_CPU_EXECUTOR as 'native' | 'interpreted' | undefined) ?? 'auto';
    if (mode === 'interpreted') return interpreted;
    const blocker = nativeExecutorBlocker(g, this.native, this.addon);
    if (blocker === null) return new NativeGraphExecutable(g, this.executorHost(), interpreted);
    if (mode === 'native') throw new KerasError(`cpu backend: the native graph executor cannot run this graph: ${blocker}`);
    return interpreted;
  }

  private executorHost(): ExecutorHost {
    return {
      addon: this.addon,
      name: this.name,
      nativeOf: (t) => this.nativeOf(t),
      adopt: (t, dtype, shape) => new Tensor({ shape: [...shape], dtype, backend: this, storage: new CpuStorage(t, shape) }),
      soleOwner: (t) => {
        const s = t.storage as CpuStorage;
        return s.refs === 1 && s.viewCount === 1 && !s.pending;
      },
      attrs: nativeAttrList,
    };
  }

  /** evaluateGraph + runGraph's update step, awaiting large native kernels. */
  private async runAsync(graph: Graph, feeds: Tensor[]): Promise<Tensor[]> {
    // Same bookkeeping as evaluateGraph (lib/ir/execute.ts), with awaits between nodes.
    if (feeds.length !== graph.inputs.length) throw new KerasError(`graph expects ${graph.inputs.length} inputs, received ${feeds.length}`);
    const env = new Map<Tensor, Tensor>();
    for (const [t, p] of graph.placeholders) {
      env.set(t, p.kind === 'input' ? feeds[p.index] : p.kind === 'constant' ? p.value : p.variable.value);
    }
    for (const [i, f] of feeds.entries()) {
      const spec = graph.inputs[i];
      if (f.dtype !== spec.dtype || f.rank !== spec.rank || spec.shape.some((d, k) => d !== null && d !== f.shape[k])) {
        throw new ShapeError(`graph input ${i}: expected ${spec.dtype} ${fmtShape(spec.shape)}, received ${f.dtype} ${fmtShape(f.shape)}`);
      }
    }
    const lastUse = new Map<Tensor, number>();
    graph.nodes.forEach((n, i) => n.inputs.forEach((t) => lastUse.set(t, i)));
    const results = new Set<Tensor>([...graph.outputs, ...graph.updates.map((u) => u.value)]);
    const produced = new Set<Tensor>();
    const free = (t: Tensor) => env.get(t)?.dispose();
    let lastYield = Date.now();
    // The variables' reads above and the assigns below bracket the run: an assign meanwhile would be lost.
    await Variable.whileUpdating(graph.updates.map((u) => u.variable), async () => {
      try {
        for (const [i, node] of graph.nodes.entries()) {
          const ins = node.inputs.map((t) => {
            const v = env.get(t);
            if (!v) throw new KerasError(`graph: ${node.op.name} reads a value that was never produced`);
            return v;
          });
          let outs: Tensor[];
          if (this.native.has(node.op.name) && this.isLarge(ins, node.outputs)) {
            const specs = node.op.infer(ins, node.attrs) as OutputSpec[];
            let ids: number | number[];
            try {
              ids = await this.addon.raw.runOpAsync(this.addon.opId(node.op.name), nativeAttrList(node.attrs), ...ins.map((t) => this.nativeOf(t).id));
            } catch (error) {
              throw allocationFailure(node.op.name, specs, asKerasError(error));
            }
            const storages = this.wrapOutputs(node.op.name, ids, specs);
            outs = detached(() => storages.map((s, k) => new Tensor({ shape: specs[k].shape, dtype: specs[k].dtype, backend: this, storage: s })));
            lastYield = Date.now();
          } else {
            outs = detached(() => runOp(node.op.name, ins, node.attrs, this));
            if (Date.now() - lastYield >= YIELD_EVERY_MS) {
              await new Promise((resolve) => setImmediate(resolve));
              lastYield = Date.now();
            }
          }
          node.outputs.forEach((o, k) => {
            env.set(o, outs[k]);
            produced.add(o);
          });
          for (const t of node.inputs) if (lastUse.get(t) === i && produced.has(t) && !results.has(t)) free(t);
          for (const o of node.outputs) if (!lastUse.has(o) && !results.has(o)) free(o);
        }
      } catch (error) {
        for (const t of produced) free(t);
        throw asKerasError(error);
      }
    });
    const get = (t: Tensor) => {
      const v = env.get(t);
      if (!v) throw new KerasError('graph: an output was never produced');
      return v;
    };
    const outputs = graph.outputs.map(get);
    graph.updates.forEach((u) => {
      const value = get(u.value);
      u.variable.assign(value);
      if (!outputs.includes(value)) value.dispose();
    });
    return outputs;
  }

  private isLarge(ins: readonly Tensor[], outs: readonly Tensor[]): boolean {
    const big = (t: Tensor) => t.shape.reduce((a, d) => a * (d ?? 1), 1) >= ASYNC_MIN_ELEMENTS;
    return ins.some(big) || outs.some(big);
  }
}

/** Runs `fn` so the tensors it creates join no enclosing tidy scope (they are owned by the executable's run). */
function detached<T>(fn: () => T): T {
  state.scopes.push([]);
  try {
    return fn();
  } finally {
    state.scopes.pop();
  }
}
