/**
 * Loader and typed surface of the native CPU addon (native/binding).
 *
 * The binary is found by node-gyp-build: a local `build/Release` (a source build,
 * made by `npm install` when no prebuild matches or by `npx node-gyp rebuild`),
 * else `prebuilds/<platform>-<arch>/` from `npm run prebuild`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { SurvivorQueue } from '../../utils/survivors.js';

/** dtype names the engine stores; `bool` is held as one byte per element. */
export type NativeDType = 'float32' | 'float64' | 'int32' | 'bool';

export type NativeTypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Attribute values a kernel accepts; integral numbers arrive as integers. */
export type NativeAttrValue = boolean | number | string | number[];
export type NativeAttrs = Record<string, NativeAttrValue | undefined | null>;
/**
 * Attributes as the raw addon takes them: name, value, name, value, ... A list, not an
 * object: enumerating an object's keys natively, and looking each one up by name, was
 * two thirds of a small matmul's native call (about 1 us).
 */
export type NativeAttrList = (string | NativeAttrValue)[];

/** `attrs` as a NativeAttrList, each value through `convert`, null and undefined values left out. */
export function attrList<V>(attrs: Readonly<Record<string, V | undefined | null>>, convert: (value: V) => NativeAttrValue): NativeAttrList {
  const list: NativeAttrList = [];
  for (const key in attrs) {
    const value = attrs[key];
    if (value !== undefined && value !== null) list.push(key, convert(value));
  }
  return list;
}

const asIs = (value: NativeAttrValue): NativeAttrValue => value;

export interface NativeBackendInfo {
  /** The instruction-set path in use: 'avx512' | 'avx2' | 'portable'. */
  isa: string;
  /** Paths this CPU can run, best first. */
  availableIsas: string[];
  threads: number;
  /** Build system that produced the binary: 'node-gyp' | 'cmake-js'. */
  build: string;
  compiler: string;
  /** Micro-kernels in use, e.g. f32_gemm_14x32_avx512. */
  kernels: { f32Gemm: string; f64Gemm: string; f32GemmBlocking: { mc: number; kc: number; nc: number } };
  cpu: {
    vendor: string;
    brand: string;
    physicalCores: number;
    logicalCpus: number;
    l1dBytes: number;
    l2Bytes: number;
    l3Bytes: number;
  };
  /** Ops with a CPU kernel. */
  ops: string[];
}

export interface NativeMemoryInfo {
  /** Bytes held by live tensors. */
  liveBytes: number;
  liveBuffers: number;
  /** Freed bytes kept by the caching allocator for reuse. */
  cachedBytes: number;
  peakLiveBytes: number;
  /**
   * Bytes of this thread's live handles that V8 has been told about (so it collects
   * dropped handles under memory pressure). Told in batches: within 1 MiB of their bytes.
   */
  reportedExternalBytes: number;
  /** Tensors held by JS (handles not yet disposed or collected). */
  liveTensors: number;
}

/** The addon's own exports (native/binding): tensors are numbers, ids into its tensor table. */
export interface RawNativeAddon {
  createTensor(data: NativeTypedArray, shape: readonly number[], dtype: NativeDType): number;
  /** Frees a tensor; false for an id that is not live (already released: harmless). */
  releaseTensor(id: number): boolean;
  /** A tensor of `shape` over the same buffer (no copy) for a contiguous one; undefined for a strided one. */
  reshapeView(id: number, shape: readonly number[]): number | undefined;
  /** A contiguous block of a contiguous tensor as a view at an offset (no copy); undefined for any other slice. */
  sliceView(id: number, begin: readonly number[], size: readonly number[]): number | undefined;
  /** undefined for an id that is not live. */
  tensorShape(id: number): number[] | undefined;
  tensorDType(id: number): NativeDType | undefined;
  readTensor(id: number): NativeTypedArray;
  /** The id runOp takes for an op name; -1 when the engine has no such op. */
  opId(name: string): number;
  /** Runs an op: one output id, or an array of ids for several outputs. */
  runOp(opId: number, attrs: NativeAttrList | undefined, ...inputs: number[]): number | number[];
  runOpAsync(opId: number, attrs: NativeAttrList | undefined, ...inputs: number[]): Promise<number | number[]>;
  backendInfo(): NativeBackendInfo;
  memoryInfo(): NativeMemoryInfo;
  /** Returns the allocator's cached blocks to the OS. */
  releaseCache(): void;
  /** Measured FP32 FMA throughput of `threads` threads, in GFLOP/s. */
  peakFlops(threads: number, seconds: number): number;
  /** Switches the ISA path (tests, benchmarks); throws if this CPU lacks it. */
  setIsa(isa: string): void;
  /** Resizes the thread pool; n <= 0 restores the default. Not while kernels run. */
  setNumThreads(n: number): void;
  compileGraph?(plan: unknown): RawNativeGraph;
}

/** Exports the handle-based addon passes through from the raw one unchanged. */
type SharedExports = 'backendInfo' | 'memoryInfo' | 'releaseCache' | 'peakFlops' | 'setIsa' | 'setNumThreads';

/**
 * A graph run's result as the addon returns it (one array, no object to build natively):
 * the output count, the output ids, the update ids, then peakBytes, allocatedBytes,
 * inPlace and kernels.
 */
type RawRunResult = number[];

interface RawNativeGraph {
  run(feeds: number[], variables: number[], donate: boolean[]): Promise<RawRunResult>;
  runSync(feeds: number[], variables: number[], donate: boolean[]): RawRunResult;
  plan(): unknown;
  dispose(): void;
}

/**
 * Handles that outlived the synchronous stretch that made them are registered here,
 * so a dropped handle's tensor is freed by the GC (deferred as for Tensors: see
 * SurvivorQueue). A double release (dispose racing the GC) is harmless: ids are
 * never reused for another tensor.
 */
const dropped = new FinalizationRegistry<{ raw: RawNativeAddon; id: number }>(({ raw, id }) => raw.releaseTensor(id));
const survivors = new SurvivorQueue<NativeTensor>((h) => h.registerIfLive(dropped));

/**
 * A tensor in native memory: a plain JS object around the engine's id. Free it with
 * `dispose()`; a handle dropped undisposed is freed by the GC, later.
 */
export class NativeTensor {
  /** The engine's id; -1 once disposed. */
  id: number;
  private shapeCache: number[] | undefined;
  private dtypeCache: NativeDType | undefined;
  private registered = false;

  /**
   * @internal Handles come from the addon's functions. `watched = false` is for owners
   * that free the tensor themselves, GC included (the cpu backend's storages, whose
   * Tensors carry the GC safety net).
   */
  constructor(
    private readonly raw: RawNativeAddon,
    id: number,
    watched = true,
  ) {
    this.id = id;
    if (watched) survivors.watch(this);
  }

  get shape(): number[] {
    if (!(this.id >= 0)) return [];
    return (this.shapeCache ??= this.raw.tensorShape(this.id) ?? []);
  }

  get dtype(): NativeDType {
    return (this.dtypeCache ??= (this.id >= 0 ? this.raw.tensorDType(this.id) : undefined) ?? 'float32');
  }

  /** Number of elements. */
  get size(): number {
    return this.id >= 0 ? this.shape.reduce((a, d) => a * d, 1) : 0;
  }

  get disposed(): boolean {
    return !(this.id >= 0);
  }

  /** Copies the values into a new TypedArray (Uint8Array for bool). */
  read(): NativeTypedArray {
    if (!(this.id >= 0)) throw new Error('read: the tensor was already disposed');
    return this.raw.readTensor(this.id);
  }

  /** Frees the native memory now. Safe to call twice. */
  dispose(): void {
    if (!(this.id >= 0)) return;
    this.raw.releaseTensor(this.id);
    this.id = -1;
    if (this.registered) dropped.unregister(this);
  }

  /** @internal */
  registerIfLive(registry: FinalizationRegistry<{ raw: RawNativeAddon; id: number }>): void {
    if (!(this.id >= 0) || this.registered) return;
    this.registered = true;
    registry.register(this, { raw: this.raw, id: this.id }, this);
  }
}

/**
 * The addon as the rest of the library uses it: handles instead of ids. Errors from
 * bad input are thrown (or, for the async variant, rejected) as Error objects whose
 * `name` is ShapeError, DTypeError or ValueError and whose message names the op and
 * the shapes.
 */
export interface NativeAddon extends Pick<RawNativeAddon, SharedExports> {
  /** The id-based exports, for hot paths that manage ids themselves. */
  readonly raw: RawNativeAddon;
  createTensor(data: NativeTypedArray, shape: readonly number[], dtype: NativeDType): NativeTensor;
  runKernel(op: string, inputs: readonly NativeTensor[], attrs?: NativeAttrs): NativeTensor[];
  /** Same as runKernel, computed off the event loop. Inputs stay alive until it settles. */
  runKernelAsync(op: string, inputs: readonly NativeTensor[], attrs?: NativeAttrs): Promise<NativeTensor[]>;
  /** The id raw.runOp takes for `op`; throws a ValueError-named Error for ops the engine lacks. */
  opId(op: string): number;
}

/** A plan for compileGraph, with its constants as handles. */
export interface NativeGraphPlan {
  constants: { slot: number; tensor: NativeTensor }[];
  [field: string]: unknown;
}

/** A compiled graph; runs return handles. */
export interface NativeGraphHandle {
  run(feeds: NativeTensor[], variables: NativeTensor[], donate: boolean[]): Promise<{ outputs: NativeTensor[]; updates: NativeTensor[]; stats: unknown }>;
  runSync(feeds: NativeTensor[], variables: NativeTensor[], donate: boolean[]): { outputs: NativeTensor[]; updates: NativeTensor[]; stats: unknown };
  plan(): unknown;
  dispose(): void;
}

/** The ids of handles given to the addon; a disposed handle passes -1, which the engine reports as disposed. */
function idsOf(op: string, what: string, handles: readonly NativeTensor[]): number[] {
  const ids: number[] = [];
  for (let i = 0; i < handles.length; i++) {
    const h = handles[i];
    if (!(h instanceof NativeTensor)) throw new TypeError(`${op}: ${what} ${i} is not a NativeTensor`);
    ids.push(h.id >= 0 ? h.id : -1);
  }
  return ids;
}

/**
 * The facade over the raw exports. It also carries `compileGraph(plan)`, typed by its
 * one user, lib/backends/cpu/executor.ts (ExecutorAddon).
 */
function wrapAddon(raw: RawNativeAddon): NativeAddon & { compileGraph?: (plan: NativeGraphPlan) => NativeGraphHandle } {
  const opIds = new Map<string, number>();
  const opId = (op: string): number => {
    let id = opIds.get(op);
    if (id === undefined) {
      id = raw.opId(op);
      opIds.set(op, id);
    }
    if (id < 0) throw Object.assign(new Error(`unknown op '${op}'`), { name: 'ValueError' });
    return id;
  };
  const handles = (r: number | number[]): NativeTensor[] => (typeof r === 'number' ? [new NativeTensor(raw, r)] : r.map((id) => new NativeTensor(raw, id)));
  const wrapRun = (r: RawRunResult) => {
    const outputCount = r[0]!, stats = r.length - 4;
    const outputs: NativeTensor[] = [];
    const updates: NativeTensor[] = [];
    for (let i = 1; i <= outputCount; i++) outputs.push(new NativeTensor(raw, r[i]!));
    for (let i = 1 + outputCount; i < stats; i++) updates.push(new NativeTensor(raw, r[i]!));
    return { outputs, updates, stats: { peakBytes: r[stats]!, allocatedBytes: r[stats + 1]!, inPlace: r[stats + 2]!, kernels: r[stats + 3]! } };
  };
  return {
    raw,
    createTensor: (data, shape, dtype) => new NativeTensor(raw, raw.createTensor(data, shape, dtype)),
    runKernel: (op, inputs, attrs) => handles(raw.runOp(opId(op), attrs && attrList(attrs, asIs), ...idsOf(op, 'input', inputs))),
    runKernelAsync: async (op, inputs, attrs) => handles(await raw.runOpAsync(opId(op), attrs && attrList(attrs, asIs), ...idsOf(op, 'input', inputs))),
    opId,
    backendInfo: () => raw.backendInfo(),
    memoryInfo: () => raw.memoryInfo(),
    releaseCache: () => raw.releaseCache(),
    peakFlops: (threads, seconds) => raw.peakFlops(threads, seconds),
    setIsa: (isa) => raw.setIsa(isa),
    setNumThreads: (n) => raw.setNumThreads(n),
    compileGraph: raw.compileGraph
      ? (plan) => {
          // A malformed plan goes to the engine as it is, which names what is wrong with it.
          const constants = Array.isArray(plan?.constants)
            ? plan.constants.map((c) => (c?.tensor instanceof NativeTensor ? { ...c, tensor: c.tensor.id } : c))
            : plan?.constants;
          const graph = raw.compileGraph!(plan && typeof plan === 'object' ? { ...plan, constants } : plan);
          return {
            run: async (feeds, variables, donate) => wrapRun(await graph.run(idsOf('run', 'feed', feeds), idsOf('run', 'variable', variables), donate)),
            runSync: (feeds, variables, donate) => wrapRun(graph.runSync(idsOf('runSync', 'feed', feeds), idsOf('runSync', 'variable', variables), donate)),
            plan: () => graph.plan(),
            dispose: () => graph.dispose(),
          };
        }
      : undefined,
  };
}

/** Thrown when the native addon cannot be loaded; `cause` holds the loader's error. */
export class NativeBackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeBackendUnavailableError';
  }
}

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  // Works from lib/ (tsx, vitest) and from dist/lib/ (compiled).
  while (!fs.existsSync(path.join(dir, 'binding.gyp'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no binding.gyp above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

let cached: NativeAddon | undefined;

/** Loads the addon once; throws NativeBackendUnavailableError explaining why it cannot. */
export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    const root = packageRoot();
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    cached = wrapAddon(nodeGypBuild(root) as RawNativeAddon);
    return cached;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NativeBackendUnavailableError(
      `The cpu backend is unavailable: the native addon could not be loaded (${reason}). ` +
        'Build it with `npx node-gyp rebuild` (needs a C++17 compiler and Python), ' +
        "or use the 'js' backend.",
      { cause: error },
    );
  }
}

/** True when the addon loads; never throws. */
export function isNativeAvailable(): boolean {
  try {
    loadNativeAddon();
    return true;
  } catch {
    return false;
  }
}
