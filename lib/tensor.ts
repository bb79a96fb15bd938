/**
 * Tensor: an immutable n-d array owned by a backend, or a symbolic tensor
 * (shape and dtype only) recorded while tracing or building a functional model.
 */
import { allocate, type DType, type TypedArray } from './dtype.js';
import { KerasError, fmtShape } from './errors.js';
import type { Backend } from './backends/backend.js';
import type { Attrs, OpDef } from './ops/registry.js';
import { sizeOf } from './shape.js';
import { formatTensor, type NestedArray, toNested } from './utils/format.js';
import { innermostScope, state } from './state.js';
import { SurvivorQueue } from './utils/survivors.js';

/** One recorded op call: the unit of both the eager tape and the graph IR. */
export interface OpNode {
  op: OpDef;
  inputs: Tensor[];
  outputs: Tensor[];
  attrs: Attrs;
}

let nextId = 1;

/** Frees storage of tensors that were garbage collected without dispose(). */
const finalizer = new FinalizationRegistry<{ backend: Backend; storage: unknown }>(({ backend, storage }) => {
  liveCount(backend).n--;
  backend.release(storage);
});

let lastBackend: Backend | null = null;
let lastCount: { n: number } = { n: 0 };

/** The live-tensor counter of a backend (state.live holds one per backend name); the last one is cached. */
function liveCount(backend: Backend): { n: number } {
  if (backend === lastBackend) return lastCount;
  let c = state.live.get(backend.name);
  if (!c) state.live.set(backend.name, (c = { n: 0 }));
  lastBackend = backend;
  lastCount = c;
  return c;
}

/** Tensors that outlive their synchronous stretch get the GC safety net (see SurvivorQueue). */
const survivors = new SurvivorQueue<Tensor>((t) => t.registerForCollection());

export class Tensor {
  readonly id = nextId++;
  /** Dims; for symbolic tensors, unknown dims (the batch dim) are `null` at run time. */
  readonly shape: number[];
  readonly dtype: DType;
  /** The backend holding the values; null for symbolic tensors. */
  readonly backend: Backend | null;
  /** Backend-owned storage; null for symbolic tensors or after dispose. */
  storage: unknown;
  /** For symbolic tensors: the node producing it (null for placeholders) and which output. */
  readonly node: OpNode | null;
  readonly outputIndex: number;
  /** Symbolic placeholder name (trace inputs, keras.Input), or a captured variable. */
  readonly symbolicSource: unknown;
  private pins = 0;
  private disposePending = false;
  private disposedFlag = false;
  /** Registered with the GC safety net (see SurvivorQueue). */
  private registered = false;
  /** The backend's live counter, held so counting costs no map lookup per tensor. */
  private readonly live: { n: number } | null = null;
  /**
   * @internal Exempt from every tidy scope (engine's keep()), and the Variable this tensor
   * is the value of (variable.ts). Fields, not a WeakSet and a WeakMap: a compiled train
   * step installs every updated variable's value each run, and an ephemeron-table insert
   * per install cost more than the rest of the install.
   */
  keptForever = false;
  /** @internal See keptForever. */
  ownerVariable: unknown = undefined;

  /** @internal Tensors are created by ops, `keras.ops.convertToTensor` or `tensor()`. */
  constructor(init: {
    shape: number[];
    dtype: DType;
    backend?: Backend | null;
    storage?: unknown;
    node?: OpNode | null;
    outputIndex?: number;
    symbolicSource?: unknown;
  }) {
    this.shape = init.shape;
    this.dtype = init.dtype;
    this.backend = init.backend ?? null;
    this.storage = init.storage ?? null;
    this.node = init.node ?? null;
    this.outputIndex = init.outputIndex ?? 0;
    this.symbolicSource = init.symbolicSource;
    if (this.backend) {
      this.backend.retain(this.storage);
      this.live = liveCount(this.backend);
      this.live.n++;
      survivors.watch(this);
      const scope = innermostScope();
      if (scope) scope.push(this);
    }
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements (NaN for symbolic tensors with unknown dims). */
  get size(): number {
    return this.shape.some((d) => d === null) ? NaN : sizeOf(this.shape);
  }

  get isSymbolic(): boolean {
    return this.backend === null;
  }

  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  private checkReadable(what: string): void {
    if (this.backend === null) {
      throw new KerasError(`${what}: symbolic tensor of shape ${fmtShape(this.shape)} has no values; it only carries shape and dtype`);
    }
    if (this.disposedFlag) throw new KerasError(`${what}: tensor ${this.id} of shape ${fmtShape(this.shape)} was disposed`);
  }

  /** Values as a TypedArray (a copy the caller may keep). */
  dataSync(): TypedArray {
    this.checkReadable('dataSync');
    return this.backend!.readCopy(this.storage, this.dtype);
  }

  /** Values as a TypedArray, without blocking the event loop where the backend allows. */
  async data(): Promise<TypedArray> {
    this.checkReadable('data');
    return this.backend!.readAsync(this.storage, this.dtype);
  }

  /** Values as nested JS arrays (numbers, or booleans for bool). */
  async array(): Promise<NestedArray> {
    return toNested(await this.data(), this.shape, this.dtype);
  }

  arraySync(): NestedArray {
    return toNested(this.dataSync(), this.shape, this.dtype);
  }

  /** @internal Read-only view of the values, without a copy where the backend allows. */
  values(): TypedArray {
    this.checkReadable('read');
    return this.backend!.read(this.storage, this.dtype);
  }

  /** The single value of a size-1 tensor. */
  item(): number {
    const v = this.values();
    if (v.length !== 1) throw new KerasError(`item: tensor of shape ${fmtShape(this.shape)} has ${v.length} elements, expected 1`);
    return v[0];
  }

  /** Frees the storage now. Safe to call twice. Deferred while a gradient tape still needs the tensor. */
  dispose(): void {
    if (this.disposedFlag || this.backend === null) return;
    if (this.pins > 0) {
      this.disposePending = true;
      return;
    }
    this.disposedFlag = true;
    if (this.registered) finalizer.unregister(this);
    this.live!.n--;
    this.backend.release(this.storage);
    this.storage = null;
  }

  /** @internal Hands a tensor that outlived its synchronous stretch to the GC safety net. */
  registerForCollection(): void {
    if (this.disposedFlag || this.registered || this.backend === null) return;
    this.registered = true;
    finalizer.register(this, { backend: this.backend, storage: this.storage }, this);
  }

  /** @internal Keeps the storage alive for a gradient tape. */
  pin(): void {
    this.pins++;
  }

  /** @internal */
  unpin(): void {
    this.pins--;
    if (this.pins === 0 && this.disposePending) {
      this.disposePending = false;
      this.dispose();
    }
  }

  toString(): string {
    if (this.backend === null) return `<KerasTensor shape=${fmtShape(this.shape)}, dtype=${this.dtype}>`;
    if (this.disposedFlag) return `<disposed Tensor shape=${fmtShape(this.shape)}, dtype=${this.dtype}>`;
    return formatTensor(this.values(), this.shape, this.dtype);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Makes a concrete tensor from values already laid out row-major. */
export function makeTensor(values: TypedArray, shape: number[], dtype: DType, backend: Backend): Tensor {
  return new Tensor({ shape, dtype, backend, storage: backend.upload(values, dtype, shape) });
}

export function emptyValues(dtype: DType, shape: number[]): TypedArray {
  return allocate(dtype, sizeOf(shape));
}
