/**
 * The op registry: one definition per primitive op (attributes, shape and dtype
 * inference, gradient rule), and per-backend kernels keyed by op name.
 * Composite ops are plain functions over primitives and are listed here only for docs.
 */
import type { DType } from '../dtype.js';
import type { Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';

export type Attrs = Record<string, unknown>;

/** Shape and dtype of a tensor, known without its values. */
export interface TensorSpec {
  shape: Dim[];
  dtype: DType;
}

/** What a gradient rule receives: the recorded call, and one upstream gradient per output (null if none flowed). */
export interface GradContext<A extends Attrs = Attrs> {
  inputs: Tensor[];
  outputs: Tensor[];
  attrs: A;
  /** Which inputs need a gradient (absent: all); rules may return null for the others to save work. */
  needs?: boolean[];
}

/**
 * An op's gradient rule: one entry per input, a tensor, null (no gradient), or a contribution
 * that merges with the input's other uses (MergeableGrad: a fused RNN cell's per-timestep bias
 * rows, summed once over all timesteps).
 */
export type GradFn<A extends Attrs = Attrs> = (ctx: GradContext<A>, dys: (Tensor | null)[]) => (Tensor | MergeableGrad | null)[];

/**
 * One contribution to an input's gradient that sums with others of the same `key` by
 * concatenation: the sum of `make(parts_i)` over contributions i is `make` of each part
 * concatenated along its axis in `axes`. A gather's gradient (a scatter-add of rows) and a
 * matmul's weight gradient (A^T dY, a contraction over rows) are of this kind.
 */
export interface MergeableGrad {
  key: string;
  parts: Tensor[];
  axes: number[];
  make: (parts: Tensor[]) => Tensor;
  /** The gradient when this is the only contribution, if `make` would be the slower way (a slice's pad). */
  single?: (parts: Tensor[]) => Tensor;
  /**
   * The rows this contribution gives, when they are a static run: `parts[part]` goes to rows
   * [start, start + its size along axes[part]) of a gradient with `total` rows there. When the
   * runs of a key's contributions tile [0, total) exactly, the gradient is those parts
   * concatenated in row order, with no make (an RNN's timesteps, an unstack: one copy instead
   * of a zero fill and a scatter).
   */
  run?: { part: number; start: number; total: number };
}

export interface OpDef<A extends Attrs = Attrs> {
  name: string;
  /** Category for docs/ops.md. */
  category: string;
  /**
   * How many input tensors the op takes: exactly n, or a range (`max` absent: no limit;
   * concatenate's list). The engine checks it before `infer`, which may then index its inputs.
   */
  arity: number | { min: number; max?: number };
  /** Attribute names this op accepts; anything else is an error. */
  attrs: readonly string[];
  /** Shape/dtype inference; runs on symbolic tensors and throws errors naming the op and shapes. */
  infer(inputs: TensorSpec[], attrs: A): TensorSpec[];
  /** Gradient written in ops (so it runs on every backend and inside graphs). Absent: not differentiable. */
  grad?: GradFn<A>;
  /**
   * For ops that are differentiable in principle but have no rule here (the backward-pass
   * primitives): why. A gradient reaching such an op raises a GradientError with this
   * text instead of passing zero, which would be silently wrong.
   */
  gradientUnsupported?: string;
  /**
   * Gradients that backprop may merge across uses (MergeableGrad), one entry per input; `grad`
   * gives the inputs whose entry is null. All contributions of one key to one tensor become one
   * op when that gradient is first read, so T gathers of a tensor (an RNN's timesteps) cost one
   * scatter, and T matmuls by one weight one matmul, not T results added pairwise.
   */
  mergeableGrad?: (ctx: GradContext<A>, dys: (Tensor | null)[]) => (MergeableGrad | null)[];
  /** Inputs that never receive gradients (e.g. indices). */
  nonDifferentiableInputs?: readonly number[];
  /** True for ops whose result depends on something other than their inputs (none today besides random via seed inputs). */
  random?: boolean;
}

const OPS = new Map<string, OpDef>();

/** Registers a primitive op; names are unique. */
export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  if (OPS.has(def.name)) throw new Error(`op ${def.name} is defined twice`);
  OPS.set(def.name, def as unknown as OpDef);
  return def;
}

export function getOp(name: string): OpDef {
  const def = OPS.get(name);
  if (!def) throw new Error(`unknown op ${name}`);
  return def;
}

/** What the op's arity asks for ("takes 2 input tensors", "takes 1 to 2 input tensors"), or null when `count` fits it. */
export function arityMismatch(op: OpDef, count: number): string | null {
  const { min, max } = typeof op.arity === 'number' ? { min: op.arity, max: op.arity } : op.arity;
  if (count >= min && (max === undefined || count <= max)) return null;
  const n = max === undefined ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
  return `takes ${n} input tensor${n === '1' || n === 'at least 1' ? '' : 's'}`;
}

export function allOps(): OpDef[] {
  return [...OPS.values()];
}
