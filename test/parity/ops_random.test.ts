/**
 * Random eager ops on the cpu backend against the js backend: reductions over random axis
 * sets (negative axes, keepdims), arg reductions, scans, softmax and logsumexp on any axis,
 * transposes by random permutations, flips, rolls, tiles, pads, takes, concatenations, sorts
 * and top-k, over float32, float64 and int32 tensors of rank 1-4. Shapes mix size-0 and
 * size-1 dims with extents that cross vector, tile and thread-split sizes (up to about 700 a
 * dim at rank 1-2), so the native drivers' paths (runs folded in place, columns accumulated,
 * segments split over threads) meet axis sets that no hand-written case lists. An input js
 * rejects must be rejected on cpu too. (About 7,500 draws over the three ISA paths found no
 * mismatch before this test was written.)
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { DType, Tensor } from '../../lib/index.js';
import { getBackend, setBackend } from '../../lib/engine.js';
import { draws } from '../helpers.js';
import { nativeUnavailableReason } from './harness.js';
import { firstMismatch, forwardTolerance } from './tolerances.js';

const { ops } = keras;
const reason = nativeUnavailableReason();
type Draw = ReturnType<typeof draws>;

/** Everything one case draws, so that both backends run exactly the same op. */
interface Case {
  shape: number[];
  dtype: 'float32' | 'float64' | 'int32';
  values: number[];
  axis: number;
  axes: number[] | null;
  keepdims: boolean;
  perm: number[];
  shift: number;
  repeats: number[];
  padding: [number, number][];
  indices: number[];
  k: number;
}

function drawCase(draw: Draw): Case {
  const rank = 1 + draw(4);
  const large = draw(3) === 0;
  const shape = Array.from({ length: rank }, () => {
    const c = draw(8);
    if (c === 0) return 1;
    if (c === 1) return draw(4) === 0 ? 0 : 2;
    return large ? 3 + draw(rank <= 2 ? 700 : 60) : 1 + draw(17);
  });
  const dtype = draw(4) === 0 ? 'int32' : draw(2) ? 'float64' : 'float32';
  const n = shape.reduce((a, b) => a * b, 1);
  // Integers in [-3, 3] (ties for the arg reductions and sorts); floats in [-1, 1].
  const values = Array.from({ length: n }, () => (dtype === 'int32' ? draw(7) - 3 : draw(2001) / 1000 - 1));
  const axis = draw(rank) - (draw(2) ? rank : 0);
  let axes: number[] | null = null;
  if (draw(6)) {
    axes = [];
    for (let d = 0; d < rank; d++) if (draw(2)) axes.push(draw(2) ? d : d - rank);
    if (!axes.length) axes.push(draw(rank));
  }
  const perm = [...Array(rank).keys()];
  for (let i = rank - 1; i > 0; i--) {
    const j = draw(i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const extent = shape[(axis + rank) % rank]!;
  return {
    shape, dtype, values, axis, axes, keepdims: draw(2) === 1, perm,
    shift: draw(9) - 4,
    repeats: shape.map(() => 1 + draw(2)),
    padding: shape.map(() => [draw(3), draw(3)] as [number, number]),
    indices: Array.from({ length: 1 + draw(6) }, () => (extent ? draw(extent) : 0)),
    k: 1 + draw(Math.max(1, shape[rank - 1]!)),
  };
}

/** The ops; `tolerance`: the registry op whose tolerance the outputs get, when not `name`. */
const OPS: { name: string; tolerance?: string; run: (x: Tensor, c: Case) => Tensor | Tensor[] }[] = [
  { name: 'sum', run: (x, c) => ops.sum(x, c.axes, c.keepdims) },
  { name: 'max', run: (x, c) => ops.max(x, c.axes, c.keepdims) },
  { name: 'min', run: (x, c) => ops.min(x, c.axes, c.keepdims) },
  // Factors near 1, so products of hundreds stay finite and well scaled.
  { name: 'prod', run: (x, c) => ops.prod(ops.add(ops.multiply(ops.cast(x, 'float64'), 0.05), 1), c.axes, c.keepdims) },
  { name: 'mean', run: (x, c) => ops.mean(x, c.axes, c.keepdims) },
  { name: 'any', run: (x, c) => ops.any(ops.greater(x, 0.5), c.axes, c.keepdims) },
  { name: 'all', run: (x, c) => ops.all(ops.greater(x, -0.9), c.axes, c.keepdims) },
  { name: 'argmax', run: (x, c) => ops.argmax(x, c.axis) },
  { name: 'argmin', run: (x, c) => ops.argmin(x, c.axis) },
  { name: 'cumsum', run: (x, c) => ops.cumsum(x, c.axis) },
  { name: 'logsumexp', tolerance: 'sum', run: (x, c) => ops.logsumexp(ops.cast(x, 'float32'), c.axes, c.keepdims) },
  { name: 'var', tolerance: 'sum', run: (x, c) => ops.var(ops.cast(x, 'float64'), c.axes, c.keepdims) },
  { name: 'softmax', run: (x, c) => ops.softmax(ops.cast(x, 'float32'), c.axis) },
  { name: 'transpose', run: (x, c) => ops.transpose(x, c.perm) },
  { name: 'flip', run: (x, c) => ops.flip(x, c.axes) },
  { name: 'roll', run: (x, c) => ops.roll(x, c.shift, c.axis) },
  { name: 'tile', run: (x, c) => ops.tile(x, c.repeats) },
  { name: 'pad', run: (x, c) => ops.pad(x, c.padding) },
  { name: 'take', run: (x, c) => ops.take(x, ops.convertToTensor(c.indices, 'int32'), c.axis) },
  { name: 'concatenate', run: (x, c) => ops.concatenate([x, ops.negative(x), x], c.axis) },
  { name: 'sort', run: (x, c) => ops.sort(x, c.axis) },
  { name: 'topK', run: (x, c) => ops.topK(x, c.k) },
];

interface Result {
  shape: number[];
  dtype: DType;
  values: number[];
}

/** The op's outputs on `backend`, or the error it threw. */
function runOn(backend: string, run: () => Tensor | Tensor[]): Result[] | Error {
  const previous = getBackend().name;
  setBackend(backend);
  try {
    return keras.tidy(() => {
      const out = run();
      return (Array.isArray(out) ? out : [out]).map((t) => ({
        shape: [...t.shape], dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>, Number),
      }));
    }) as Result[];
  } catch (error) {
    return error as Error;
  } finally {
    setBackend(previous);
  }
}

describe.skipIf(reason !== null)('random eager ops: cpu against js', () => {
  it('300 seeded ops give the js values (or both reject the input)', () => {
    const draw = draws(20261129);
    let compared = 0;
    for (let i = 0; i < 300; i++) {
      const c = drawCase(draw);
      const op = OPS[draw(OPS.length)]!;
      const run = () => op.run(ops.reshape(ops.convertToTensor(c.values, c.dtype), c.shape), c);
      const label = `case ${i}: ${op.name} of ${c.dtype} ` +
        `${JSON.stringify(c.shape)} (axis ${c.axis}, axes ${JSON.stringify(c.axes)}, keepdims ${c.keepdims}, ` +
        `perm ${JSON.stringify(c.perm)}, k ${c.k})`;
      const want = runOn('js', run);
      const got = runOn('cpu', run);
      if (want instanceof Error) {
        expect(got instanceof Error, `${label}: js rejected it (${want.message}) but cpu did not`).toBe(true);
        continue;
      }
      if (got instanceof Error) throw new Error(`${label}: cpu threw ${got.message}; js gave a result`);
      compared++;
      const scale = c.values.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      want.forEach((w, o) => {
        const g = got[o]!;
        expect(g.shape, `${label}: output ${o} shape`).toEqual(w.shape);
        expect(g.dtype, `${label}: output ${o} dtype`).toBe(w.dtype);
        const bad = firstMismatch(g.values, w.values, forwardTolerance(op.tolerance ?? op.name, w.dtype), scale);
        if (bad >= 0) throw new Error(`${label}: output ${o} element ${bad} is ${g.values[bad]} on cpu, ${w.values[bad]} on js`);
      });
    }
    // The draws are meant to be valid inputs; a few are not (a take from an empty axis).
    expect(compared, 'cases compared (the rest rejected by both backends)').toBeGreaterThan(280);
  });
});
