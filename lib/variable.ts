/**
 * keras.Variable: the mutable state of a model (weights, optimizer slots, seeds).
 * Tensors are immutable; a variable holds a current tensor and swaps it on assign.
 * Inside a trace, reads and writes become graph inputs and graph updates.
 */
import { type DType } from './dtype.js';
import { DTypeError, KerasError, ShapeError, fmtShape } from './errors.js';
import { currentTrace, eagerly, keep, run1 } from './engine.js';
import { shapesEqual } from './shape.js';
import { Tensor } from './tensor.js';

let nextVariableId = 1;
const usedNames = new Map<string, number>();

/** Which variable a tensor is the current value of (for tapes watching trainable variables). */
export function variableOf(t: Tensor): Variable | undefined {
  // Inside a trace a variable read is a placeholder whose source is the variable.
  if (t.ownerVariable instanceof Variable) return t.ownerVariable;
  return t.symbolicSource instanceof Variable ? t.symbolicSource : undefined;
}

/** Hooks for traces: a variable's value inside a trace is symbolic. */
export interface VariableTraceHooks {
  readVariable(v: Variable): Tensor;
  assignVariable(v: Variable, value: Tensor): void;
}

export interface VariableOptions {
  name?: string;
  trainable?: boolean;
  dtype?: DType;
}

function uniqueName(base: string): string {
  const n = usedNames.get(base) ?? 0;
  usedNames.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

export class Variable {
  readonly id = nextVariableId++;
  readonly name: string;
  trainable: boolean;
  readonly shape: number[];
  readonly dtype: DType;
  private current: Tensor;
  /** Asynchronous graph runs in flight that install a new value here when they finish. */
  private pendingRuns = 0;

  /**
   * @param initialValue a concrete tensor (kept by the variable; the caller may dispose its own copy)
   *   or a function producing one (run eagerly, even inside a trace).
   */
  constructor(initialValue: Tensor | (() => Tensor), options: VariableOptions = {}) {
    const value = eagerly(() => (typeof initialValue === 'function' ? initialValue() : initialValue));
    if (value.isSymbolic) throw new KerasError(`Variable ${options.name ?? ''}: the initial value must be concrete, received a symbolic tensor ${fmtShape(value.shape)}`);
    if (options.dtype && options.dtype !== value.dtype) {
      throw new DTypeError(`Variable ${options.name ?? ''}: initial value has dtype ${value.dtype}, expected ${options.dtype}`);
    }
    this.name = uniqueName(options.name ?? 'variable');
    this.trainable = options.trainable ?? true;
    this.shape = [...value.shape];
    this.dtype = value.dtype;
    this.current = this.own(value);
    // A value made by the initializer function belongs to the variable alone.
    if (typeof initialValue === 'function') value.dispose();
  }

  private own(t: Tensor): Tensor {
    // A private handle on the same storage, outside every tidy scope.
    const mine = keep(new Tensor({ shape: t.shape, dtype: t.dtype, backend: t.backend, storage: t.storage }));
    mine.ownerVariable = this;
    return mine;
  }

  /** The current value. Inside a trace this is the symbolic value at this point of the trace. */
  get value(): Tensor {
    const trace = currentTrace() as (VariableTraceHooks & object) | null;
    if (trace && 'readVariable' in trace) return trace.readVariable(this);
    return this.current;
  }

  /** @internal The concrete value, even inside a trace. */
  get concreteValue(): Tensor {
    return this.current;
  }

  /** Replaces the value; shape and dtype must match. */
  assign(value: Tensor): this {
    if (!shapesEqual(value.shape, this.shape) && !(value.isSymbolic && value.shape.every((d, i) => d === null || d === this.shape[i]))) {
      throw new ShapeError(`Variable ${this.name}.assign: expected shape ${fmtShape(this.shape)}, received ${fmtShape(value.shape)}`);
    }
    if (value.dtype !== this.dtype) {
      throw new DTypeError(`Variable ${this.name}.assign: expected dtype ${this.dtype}, received ${value.dtype}`);
    }
    const trace = currentTrace() as (VariableTraceHooks & object) | null;
    if (trace && 'assignVariable' in trace) {
      trace.assignVariable(this, value);
      return this;
    }
    if (value.isSymbolic) throw new KerasError(`Variable ${this.name}.assign: received a symbolic tensor outside a trace`);
    this.checkNoPendingRun('assign');
    const old = this.current;
    this.current = this.own(value);
    old.dispose();
    return this;
  }

  /** `this = this + delta` (same shape and dtype). */
  assignAdd(delta: Tensor): this {
    return this.assign(run1('add', [this.value, this.checkDelta(delta, 'assignAdd')]));
  }

  /** `this = this - delta` (same shape and dtype). */
  assignSub(delta: Tensor): this {
    return this.assign(run1('subtract', [this.value, this.checkDelta(delta, 'assignSub')]));
  }

  private checkDelta(delta: Tensor, what: string): Tensor {
    if (delta.dtype !== this.dtype) throw new DTypeError(`Variable ${this.name}.${what}: expected dtype ${this.dtype}, received ${delta.dtype}`);
    return delta;
  }

  /** @internal Installs a value produced by a compiled graph run, without copying. */
  setConcrete(value: Tensor): void {
    const old = this.current;
    this.current = this.own(value);
    old.dispose();
  }

  /** Frees the value. */
  dispose(): void {
    this.checkNoPendingRun('dispose');
    this.current.dispose();
  }

  // A run in flight read the value when it started and replaces it when it ends: a value
  // assigned meanwhile would be overwritten, silently.
  private checkNoPendingRun(what: string): void {
    if (this.pendingRuns > 0) {
      throw new KerasError(`Variable ${this.name}.${what}: a compiled graph run that updates this variable is still running; await its promise first (it would replace the value when it ends)`);
    }
  }

  /** @internal Runs `fn` (an asynchronous graph run that updates `variables`) with assign() and dispose() on them refused until it settles. */
  static async whileUpdating<T>(variables: readonly Variable[], fn: () => Promise<T>): Promise<T> {
    for (const v of variables) v.pendingRuns++;
    try {
      return await fn();
    } finally {
      for (const v of variables) v.pendingRuns--;
    }
  }

  toString(): string {
    return `<Variable ${this.name} shape=${fmtShape(this.shape)}, dtype=${this.dtype}>`;
  }
}
