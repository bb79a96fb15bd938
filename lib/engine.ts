/**
 * The dispatcher every op call goes through. Eager: run the backend kernel now and
 * let open gradient tapes record the call. Symbolic (an input is symbolic, or a
 * trace is open): infer shapes and record a node, computing nothing.
 */
import { bytesPerElement, type DType, type TypedArray } from './dtype.js';
import { KerasError, ResourceExhaustedError, ValueError, fmtShape } from './errors.js';
import type { Backend } from './backends/backend.js';
import { arityMismatch, getOp, type Attrs, type TensorSpec } from './ops/registry.js';
import { isConcrete } from './shape.js';
import { innermostScope, state } from './state.js';
import { Tensor, type OpNode } from './tensor.js';

/** Something that observes eager op calls: gradient tapes. */
export interface OpRecorder {
  onOp(node: OpNode): void;
}

/** An open trace: where symbolic nodes go and how captured values are represented. */
export interface TraceContext {
  /** Symbolic stand-in for an eager tensor or variable read inside the trace. */
  capture(t: Tensor): Tensor;
  /** The graph is only run, never differentiated: layers record no more than inference needs (the recurrent sequences keep no activations). */
  readonly inference: boolean;
}

const recorders: OpRecorder[] = [];
const traces: TraceContext[] = [];
const backends = new Map<string, () => Backend>();
const loaded = new Map<string, Backend>();
let defaultBackendName = process.env.KERAS_BACKEND ?? 'js';

/** Registers a backend factory under a name (loaded lazily on first use). */
export function registerBackend(name: string, factory: () => Backend): void {
  backends.set(name, factory);
}

export function getBackend(name: string = defaultBackendName): Backend {
  let b = loaded.get(name);
  if (!b) {
    const factory = backends.get(name);
    if (!factory) throw new ValueError(`unknown backend ${JSON.stringify(name)}; available: ${[...backends.keys()].join(', ')}`);
    b = factory();
    loaded.set(name, b);
  }
  return b;
}

export function backendNames(): string[] {
  return [...backends.keys()];
}

/** Selects the backend new tensors are created on (`keras.config.setBackend`). */
export function setBackend(name: string): void {
  getBackend(name);
  defaultBackendName = name;
}

export function backendName(): string {
  return defaultBackendName;
}

export function pushRecorder(r: OpRecorder): void {
  recorders.push(r);
}
export function popRecorder(r: OpRecorder): void {
  const i = recorders.lastIndexOf(r);
  if (i >= 0) recorders.splice(i, 1);
}

export function currentTrace(): TraceContext | null {
  return traces.length ? traces[traces.length - 1] : null;
}
export function pushTrace(t: TraceContext): void {
  traces.push(t);
}
export function popTrace(t: TraceContext): void {
  const i = traces.lastIndexOf(t);
  if (i >= 0) traces.splice(i, 1);
}

/** Runs `fn` outside any open trace (e.g. to create weights eagerly while tracing). */
export function eagerly<T>(fn: () => T): T {
  const saved = traces.splice(0, traces.length);
  try {
    return fn();
  } finally {
    traces.push(...saved);
  }
}

function describeInputs(inputs: readonly Tensor[]): string {
  return inputs.map((t) => `${fmtShape(t.shape)} ${t.dtype}`).join(', ');
}

/**
 * A kernel's failed allocation as a ResourceExhaustedError naming the op and the outputs it
 * asked for: V8's RangeError for a typed array it cannot make (js), or the native engine's
 * out-of-memory error (cpu). Any other error is returned as it is.
 */
export function allocationFailure(opName: string, specs: readonly TensorSpec[], error: unknown): unknown {
  const v8 = error instanceof RangeError && /Invalid typed array length|Array buffer allocation failed/.test(error.message);
  if (!v8 && !(error instanceof ResourceExhaustedError)) return error;
  const bytes = specs.reduce((n, s) => n + (s.shape as number[]).reduce((a, b) => a * b, bytesPerElement(s.dtype)), 0);
  const outputs = specs.map((s) => `${fmtShape(s.shape)} ${s.dtype}`).join(', ');
  return new ResourceExhaustedError(`${opName}: out of memory computing output${specs.length === 1 ? '' : 's'} ${outputs} (${bytes} bytes)`);
}

/**
 * Runs primitive `opName` on `inputs`. Returns all outputs.
 * `backend` chooses where creation ops (no inputs) run; defaults to the current backend.
 */
export function runOp(opName: string, inputs: Tensor[], attrs: Attrs = {}, backend?: Backend): Tensor[] {
  const op = getOp(opName);
  const arity = arityMismatch(op, inputs.length);
  if (arity) throw new ValueError(`${opName}: ${arity}, received ${inputs.length}${inputs.length ? ` (${describeInputs(inputs)})` : ''}`);
  for (const key in attrs) {
    if (!op.attrs.includes(key)) {
      throw new ValueError(`${opName}: unknown attribute ${JSON.stringify(key)}; accepted: ${op.attrs.join(', ') || 'none'}`);
    }
  }
  const trace = currentTrace();
  let symbolic = trace !== null;
  for (const t of inputs) {
    if (t.isSymbolic) symbolic = true;
    else if (t.isDisposed) throw new KerasError(`${opName}: input tensor ${t.id} of shape ${fmtShape(t.shape)} was disposed`);
  }
  const specs: TensorSpec[] = op.infer(inputs as TensorSpec[], attrs);
  if (symbolic) {
    const symInputs = trace ? inputs.map((t) => (t.isSymbolic ? t : trace.capture(t))) : inputs;
    const node: OpNode = { op, inputs: symInputs, outputs: [], attrs };
    node.outputs = specs.map((s, i) => new Tensor({ shape: s.shape as number[], dtype: s.dtype, node, outputIndex: i }));
    for (const r of recorders) r.onOp(node);
    return node.outputs;
  }
  const be = inputs.length ? inputs[0].backend! : backend ?? getBackend();
  for (const t of inputs) {
    if (t.backend !== be) {
      throw new KerasError(`${opName}: inputs live on different backends (${be.name} and ${t.backend!.name}); move them with ops.convertToTensor first`);
    }
  }
  const kernel = be.kernel(opName);
  if (!kernel) throw new KerasError(`${opName}: no kernel on backend ${be.name}`);
  for (const s of specs) {
    if (!isConcrete(s.shape)) throw new KerasError(`${opName}: output shape ${fmtShape(s.shape)} is not concrete for inputs ${describeInputs(inputs)}`);
  }
  let outs: unknown[];
  try {
    outs = kernel(inputs, attrs, specs as { shape: number[]; dtype: DType }[]);
  } catch (error) {
    throw allocationFailure(opName, specs, error);
  }
  const outputs: Tensor[] = [];
  for (let i = 0; i < outs.length; i++) outputs.push(new Tensor({ shape: specs[i].shape as number[], dtype: specs[i].dtype, backend: be, storage: outs[i] }));
  if (recorders.length) {
    const node: OpNode = { op, inputs, outputs, attrs };
    for (const r of recorders) r.onOp(node);
  }
  return outputs;
}

/** Whether a recorder (a GradientTape) sees the ops run now: their inputs and outputs may be needed later. */
export function isRecording(): boolean {
  return recorders.length > 0;
}

/**
 * Single-output convenience: the first output. The others are freed at once unless a
 * recorder may need them (left to the GC, a dropped output holds memory that fresh
 * allocations then fault in page by page: ~12 us a 4 KiB page in a VM).
 */
export function run1(opName: string, inputs: Tensor[], attrs: Attrs = {}, backend?: Backend): Tensor {
  const outputs = runOp(opName, inputs, attrs, backend);
  if (outputs.length > 1 && !recorders.length && !outputs[0].isSymbolic) {
    for (let i = 1; i < outputs.length; i++) outputs[i].dispose();
  }
  return outputs[0];
}

/** A concrete tensor from a TypedArray on a backend (current one by default). */
export function fromValues(values: TypedArray, shape: number[], dtype: DType, backend?: Backend): Tensor {
  const be = backend ?? getBackend();
  return new Tensor({ shape, dtype, backend: be, storage: be.upload(values, dtype, shape) });
}

type Keepable = Tensor | { [k: string]: Keepable } | Keepable[] | unknown;

function collect(value: Keepable, into: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value instanceof Tensor) into.add(value);
  else if (value && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    if (Array.isArray(value)) for (const v of value) collect(v, into, seen);
    else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, seen);
  }
}

/**
 * Runs `fn` and disposes every tensor it created except those it returns
 * (found in arrays and plain objects) and those passed to `keep`.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Tensor[] = [];
  state.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    state.scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  state.scopes.pop();
  if (result instanceof Promise) throw new KerasError('tidy: fn must be synchronous (it returned a Promise)');
  const kept = new Set<Tensor>();
  collect(result, kept);
  const parent = innermostScope();
  for (const t of scope) {
    if (kept.has(t) || t.keptForever) {
      if (parent && !t.keptForever) parent.push(t);
    } else t.dispose();
  }
  return result;
}

/** Exempts `t` from every enclosing tidy scope. */
export function keep<T extends Tensor>(t: T): T {
  t.keptForever = true;
  return t;
}

/** Live tensors and bytes per backend. */
export function memory(): { numTensors: number; numBytes: number; backends: Record<string, { numTensors: number; numBytes: number }> } {
  const out: Record<string, { numTensors: number; numBytes: number }> = {};
  let numTensors = 0;
  let numBytes = 0;
  for (const [name, b] of loaded) {
    const n = state.live.get(name)?.n ?? 0;
    const bytes = b.memoryBytes();
    out[name] = { numTensors: n, numBytes: bytes };
    numTensors += n;
    numBytes += bytes;
  }
  return { numTensors, numBytes, backends: out };
}
