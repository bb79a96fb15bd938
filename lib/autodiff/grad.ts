/**
 * Functional autodiff in the JAX style Keras users know from `jax.grad`:
 * `grad(fn)` and `valueAndGrad(fn)` with argument selection and pytrees of tensors.
 */
import { isFloat } from '../dtype.js';
import { GradientError, KerasError } from '../errors.js';
import { tidy } from '../engine.js';
import { Tensor } from '../tensor.js';
import { Variable } from '../variable.js';
import { GradientTape } from './tape.js';

/** A tensor, a variable, or arrays / plain objects of them. */
export type TensorTree = Tensor | Variable | TensorTree[] | { [key: string]: TensorTree };

function flatten(tree: unknown, out: (Tensor | Variable)[]): void {
  if (tree instanceof Tensor || tree instanceof Variable) out.push(tree);
  else if (Array.isArray(tree)) for (const t of tree) flatten(t, out);
  else if (tree && typeof tree === 'object') for (const t of Object.values(tree)) flatten(t, out);
}

function unflatten(tree: unknown, leaves: Tensor[], pos = { i: 0 }): unknown {
  if (tree instanceof Tensor || tree instanceof Variable) return leaves[pos.i++];
  if (Array.isArray(tree)) return tree.map((t) => unflatten(t, leaves, pos));
  if (tree && typeof tree === 'object') {
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, unflatten(v, leaves, pos)]));
  }
  return tree;
}

export interface GradOptions {
  /** Which positional arguments to differentiate with respect to (default 0). */
  argnums?: number | number[];
  /** fn returns [loss, aux]; aux is returned beside the value and not differentiated. */
  hasAux?: boolean;
}

type AnyFn = (...args: any[]) => unknown;

function differentiate(fn: AnyFn, options: GradOptions, args: unknown[]): { value: unknown; grads: unknown } {
  const argnums = options.argnums ?? 0;
  const selected = typeof argnums === 'number' ? [argnums] : argnums;
  for (const i of selected) {
    if (i < 0 || i >= args.length) throw new KerasError(`grad: argnums ${i} is out of range for ${args.length} arguments`);
  }
  return tidy(() => {
    const tape = new GradientTape({ watchAccessedVariables: false });
    const sources: (Tensor | Variable)[][] = selected.map((i) => {
      const leaves: (Tensor | Variable)[] = [];
      flatten(args[i], leaves);
      if (!leaves.length) throw new KerasError(`grad: argument ${i} contains no tensor or variable to differentiate`);
      leaves.forEach((l, j) => {
        if (!isFloat(l.dtype)) throw new GradientError(`grad: argument ${i} (leaf ${j}) has dtype ${l.dtype}; only float tensors have gradients`);
      });
      tape.watch(...leaves);
      return leaves;
    });
    const out = tape.record(() => fn(...args));
    let value: unknown = out;
    let aux: unknown;
    if (options.hasAux) {
      if (!Array.isArray(out) || out.length !== 2) throw new KerasError('grad: with hasAux, fn must return [value, aux]');
      [value, aux] = out;
    }
    if (!(value instanceof Tensor)) throw new KerasError('grad: fn must return a Tensor (the value to differentiate)');
    if (!isFloat(value.dtype)) {
      tape.dispose();
      throw new GradientError(`grad: fn returned dtype ${value.dtype}; integer and bool outputs have no gradient`);
    }
    if (value.shape.length !== 0 && !value.shape.every((d) => d === 1)) {
      tape.dispose();
      throw new GradientError(`grad: fn must return a scalar, received shape [${value.shape.join(', ')}]`);
    }
    const flatGrads = tape.gradient(value, sources.flat());
    let pos = 0;
    const perArg = selected.map((i, k) => {
      const g = flatGrads.slice(pos, pos + sources[k].length);
      pos += sources[k].length;
      return unflatten(args[i], g);
    });
    const grads = typeof argnums === 'number' ? perArg[0] : perArg;
    return { value: options.hasAux ? [value, aux] : value, grads };
  });
}

/** `grad(fn)(...args)`: gradients of scalar `fn` with respect to `args[argnums]`, shaped like those arguments. */
export function grad(fn: AnyFn, options: GradOptions | number | number[] = {}): (...args: any[]) => any {
  const opts = typeof options === 'object' && !Array.isArray(options) ? options : { argnums: options };
  return (...args: unknown[]) => {
    const { value, grads } = differentiate(fn, opts, args);
    const keepers: (Tensor | Variable)[] = [];
    flatten(grads, keepers);
    const values: (Tensor | Variable)[] = [];
    flatten(value, values);
    for (const t of values) if (t instanceof Tensor && !keepers.includes(t)) t.dispose();
    return grads;
  };
}

/** `valueAndGrad(fn)(...args)` returns `[value, grads]` (value is `[value, aux]` with hasAux). */
export function valueAndGrad(fn: AnyFn, options: GradOptions | number | number[] = {}): (...args: any[]) => [any, any] {
  const opts = typeof options === 'object' && !Array.isArray(options) ? options : { argnums: options };
  return (...args: unknown[]) => {
    const { value, grads } = differentiate(fn, opts, args);
    return [value, grads];
  };
}
