/**
 * Reduction kernels of the js backend. Every reduction views its input as
 * [outer, reduced, inner] after moving reduced axes together, so one loop serves all.
 */
import { allocate, type TypedArray } from '../../dtype.js';
import { sizeOf, stridesOf } from '../../shape.js';
import type { Kernel } from '../backend.js';
import { JsStorage, valuesOf } from './storage.js';

/**
 * Iterates the input as out-index x reduced-index. Returns, for each output element,
 * the list of input offsets' base and the reduced offsets (precomputed once).
 */
function reductionPlan(shape: readonly number[], axes: readonly number[]): { outBase: Int32Array; redOffsets: Int32Array } {
  const strides = stridesOf(shape);
  const keep = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const offsetsOf = (dims: number[]): Int32Array => {
    const n = sizeOf(dims.map((d) => shape[d]));
    const out = new Int32Array(n);
    const idx = new Array(dims.length).fill(0);
    for (let k = 0; k < n; k++) {
      let off = 0;
      for (let j = 0; j < dims.length; j++) off += idx[j] * strides[dims[j]];
      out[k] = off;
      for (let j = dims.length - 1; j >= 0; j--) {
        if (++idx[j] < shape[dims[j]]) break;
        idx[j] = 0;
      }
    }
    return out;
  };
  return { outBase: offsetsOf(keep), redOffsets: offsetsOf([...axes]) };
}

/** Initial value and accumulation step (over `acc` and `v`) of each reduction. */
const REDUCERS: Record<string, { init: string; step: string; finish?: string }> = {
  sum: { init: '0', step: 'acc + v' },
  mean: { init: '0', step: 'acc + v', finish: 'acc / m' },
  prod: { init: '1', step: 'acc * v' },
  max: { init: '-Infinity', step: 'v > acc || v !== v ? v : acc' },
  min: { init: 'Infinity', step: 'v < acc || v !== v ? v : acc' },
  any: { init: '0', step: 'acc || v ? 1 : 0' },
  all: { init: '1', step: 'acc && v ? 1 : 0' },
};

type ReduceLoop = (x: TypedArray, res: TypedArray, outBase: Int32Array, redOffsets: Int32Array) => void;

/** The loop is generated per reduction so the step is inlined (see elementwise.ts). */
function reduceKernel({ init, step, finish }: { init: string; step: string; finish?: string }): Kernel {
  const loop = new Function('x', 'res', 'outBase', 'redOffsets', `
    const m = redOffsets.length;
    for (let o = 0; o < outBase.length; o++) {
      const base = outBase[o];
      let acc = ${init};
      for (let k = 0; k < m; k++) { const v = x[base + redOffsets[k]]; acc = ${step}; }
      res[o] = ${finish ?? 'acc'};
    }`) as ReduceLoop;
  // Reducing trailing axes (or all) reads each output's inputs contiguously: no offset tables.
  const contiguous = new Function('x', 'res', 'm', `
    for (let o = 0, n = res.length; o < n; o++) {
      const base = o * m;
      let acc = ${init};
      for (let k = 0; k < m; k++) { const v = x[base + k]; acc = ${step}; }
      res[o] = ${finish ?? 'acc'};
    }`) as (x: TypedArray, res: TypedArray, m: number) => void;
  return (inputs, attrs, [out]) => {
    const res = allocate(out.dtype, sizeOf(out.shape));
    const shape = inputs[0].shape;
    const axes = attrs.axes as number[];
    const trailing = axes.every((a, i) => a === shape.length - axes.length + i);
    if (trailing && res.length > 0) contiguous(valuesOf(inputs[0]), res, sizeOf(axes.map((a) => shape[a])));
    else {
      const { outBase, redOffsets } = reductionPlan(shape, axes);
      loop(valuesOf(inputs[0]), res, outBase, redOffsets);
    }
    return [new JsStorage(res)];
  };
}

function argKernel(better: (v: number, best: number) => boolean): Kernel {
  return (inputs, attrs, [out]) => {
    const x = valuesOf(inputs[0]);
    const axis = attrs.axis as number;
    const res = allocate('int32', sizeOf(out.shape));
    const { outBase, redOffsets } = reductionPlan(inputs[0].shape, [axis]);
    for (let o = 0; o < outBase.length; o++) {
      let best = x[outBase[o]];
      let bestIdx = 0;
      for (let k = 1; k < redOffsets.length; k++) {
        const v = x[outBase[o] + redOffsets[k]];
        if (best !== best) break;
        if (better(v, best) || v !== v) {
          best = v;
          bestIdx = k;
        }
      }
      res[o] = bestIdx;
    }
    return [new JsStorage(res)];
  };
}

function scanKernel(step: (acc: number, v: number) => number, init: number): Kernel {
  return (inputs, attrs, [out]) => {
    const x = valuesOf(inputs[0]);
    const shape = inputs[0].shape;
    const axis = attrs.axis as number;
    const res: TypedArray = allocate(out.dtype, x.length);
    const inner = sizeOf(shape.slice(axis + 1));
    const n = shape[axis];
    const outer = sizeOf(shape.slice(0, axis));
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc = init;
        for (let k = 0; k < n; k++) {
          const idx = (o * n + k) * inner + i;
          acc = step(acc, x[idx]);
          res[idx] = acc;
        }
      }
    }
    return [new JsStorage(res)];
  };
}

/**
 * moments: per output, in float64, the mean (sum / n) and then the mean of squared
 * deviations from it (two passes over the output's inputs); 0 / 0 = NaN for an empty axis.
 */
const moments: Kernel = ([x], attrs, [meanOut, varOut]) => {
  const axes = attrs.axes as number[];
  const { outBase, redOffsets } = reductionPlan(x.shape, axes);
  const v = valuesOf(x);
  const n = redOffsets.length;
  const means = allocate(meanOut.dtype, outBase.length), vars = allocate(varOut.dtype, outBase.length);
  for (let o = 0; o < outBase.length; o++) {
    const base = outBase[o];
    let s = 0;
    for (let k = 0; k < n; k++) s += v[base + redOffsets[k]];
    const m = s / n;
    let ss = 0;
    for (let k = 0; k < n; k++) ss += (v[base + redOffsets[k]] - m) ** 2;
    means[o] = m;
    vars[o] = ss / n;
  }
  return [new JsStorage(means), new JsStorage(vars)];
};

/**
 * logsumexp over one axis (kept, size 1), in float64: m + log(sum(exp(x - m))) with m the
 * row's max; a row whose max is infinite gives it (all -inf: -inf), a NaN gives NaN (Math.max).
 */
const logsumexp: Kernel = ([x], attrs, [out]) => {
  const axis = attrs.axis as number;
  const n = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const v = valuesOf(x);
  const res = allocate(out.dtype, outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, v[base + k * inner]);
      if (m === Infinity || m === -Infinity || m !== m) {
        res[o * inner + i] = m;
        continue;
      }
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(v[base + k * inner] - m);
      res[o * inner + i] = m + Math.log(s);
    }
  }
  return [new JsStorage(res)];
};

export const reductionKernels: Record<string, Kernel> = {
  ...Object.fromEntries(Object.entries(REDUCERS).map(([k, r]) => [k, reduceKernel(r)])),
  argmax: argKernel((v, best) => v > best),
  argmin: argKernel((v, best) => v < best),
  cumsum: scanKernel((a, v) => a + v, 0),
  cumprod: scanKernel((a, v) => a * v, 1),
  moments,
  logsumexp,
};
