/**
 * Random graphs through the cpu backend's native executor against the js backend. Each
 * seed makes a program of 4-17 ops over two feeds and four variables: unary and binary
 * elementwise ops (operands of the same shape, scalars, reductions kept as rows or columns
 * to broadcast), reductions, transposes, reshapes, slices, concatenations, matmuls,
 * softmax / logSoftmax / logsumexp, where, expandDims. Half the programs also take their
 * gradient and assign an SGD step to every variable; the others assign one variable from
 * an output. So the planner's views, fused chains (with broadcast operands and stored
 * members), in-place writes, joined concatenations and liveness meet combinations no
 * hand-written case lists. float64 keeps rounding out of it: a value from a wrong element,
 * buffer or broadcast differs by far more than GRAPH.float64. Two shapes: one smaller than
 * any tile, one whose rows (130) cross vector and tile edges and split over threads.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { fromValues, getBackend, setBackend } from '../../lib/engine.js';
import type { Backend } from '../../lib/backends/backend.js';
import { NativeGraphExecutable } from '../../lib/backends/cpu/executor.js';
import { draws } from '../helpers.js';
import { makeValues } from './cases.js';
import { nativeUnavailableReason } from './harness.js';
import { GRAPH, firstMismatch } from './tolerances.js';

const { ops } = keras;
const reason = nativeUnavailableReason();

type Draw = ReturnType<typeof draws>;
const pick = <T,>(draw: Draw, xs: readonly T[]): T => xs[draw(xs.length)]!;
const sameShape = (a: Tensor, b: Tensor) => a.shape.join() === b.shape.join();

// Bounded where it matters, so values stay finite through 17 ops.
const UNARY: ((t: Tensor) => Tensor)[] = [
  ops.tanh, ops.sigmoid, ops.relu, ops.abs, ops.negative, ops.sin, ops.cos, ops.silu, ops.softplus, ops.elu, ops.gelu,
  (t) => ops.exp(ops.tanh(t)), (t) => ops.square(ops.tanh(t)), (t) => ops.sqrt(ops.add(ops.abs(t), 1)),
];
const BINARY: ((a: Tensor, b: Tensor) => Tensor)[] = [
  ops.add, ops.subtract, ops.multiply, ops.maximum, ops.minimum, (a, b) => ops.divide(a, ops.add(ops.abs(b), 1)),
];

/** One op on `a` (and partners from `pool`), or undefined when the drawn op does not apply to a's shape. */
function randomOp(draw: Draw, a: Tensor, pool: Tensor[]): Tensor | undefined {
  const rank = a.shape.length;
  const shape = a.shape as number[];
  switch (draw(16)) {
    case 0: case 1: case 2:
      return pick(draw, UNARY)(a);
    case 3: case 4: case 5: case 6: {
      const same = pool.filter((t) => t !== a && sameShape(t, a));
      const choice = draw(5);
      let b = a;
      if (choice === 0 && same.length) b = pick(draw, same);
      else if (choice === 1) b = ops.convertToTensor(0.5 + draw(5) * 0.25, a.dtype);
      else if (choice === 2 && rank > 0) b = ops.max(a, rank - 1, true); // a column
      else if (choice === 3 && rank > 1) b = ops.mean(a, 0, true); // a row
      const f = pick(draw, BINARY);
      return draw(2) ? f(a, b) : f(b, a);
    }
    case 7:
      return rank > 0 ? pick(draw, [ops.sum, ops.mean, ops.max])(a, draw(rank), draw(2) === 0) : undefined;
    case 8: {
      if (rank < 2) return undefined;
      const perm = [...shape.keys()];
      const i = draw(rank), j = draw(rank);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      return ops.transpose(a, perm);
    }
    case 9:
      return rank >= 2 ? ops.reshape(a, [shape[0]! * shape[1]!, ...shape.slice(2)]) : undefined;
    case 10: {
      if (rank < 1) return undefined;
      const axis = draw(rank);
      if (shape[axis]! < 2) return ops.concatenate([a, pick(draw, UNARY)(a)], axis);
      const start = shape.map(() => 0), size = [...shape];
      start[axis] = draw(shape[axis]! - 1);
      size[axis] = 1 + draw(shape[axis]! - start[axis]!);
      return ops.slice(a, start, size);
    }
    case 11: {
      if (rank < 1) return undefined;
      const w = pool.find((t) => t.shape.length === 2 && t.shape[0] === shape[rank - 1]);
      return w ? ops.matmul(a, w) : ops.concatenate([a, a], draw(rank));
    }
    case 12:
      if (rank < 1) return undefined;
      return pick(draw, [
        (t: Tensor) => ops.softmax(t, -1), (t: Tensor) => ops.logSoftmax(t, -1), (t: Tensor) => ops.logsumexp(t, -1),
        (t: Tensor) => ops.clip(t, -0.3, 0.4), (t: Tensor) => ops.expandDims(t, draw(rank + 1)),
      ])(a);
    case 13:
      return ops.where(ops.greater(a, 0.1), a, pick(draw, pool.filter((t) => sameShape(t, a))));
    case 14: {
      // a @ b^T over matching batch dims.
      if (rank < 2) return undefined;
      const k = shape[rank - 1];
      const partners = pool.filter((t) => t.shape.length === rank && t.shape[rank - 1] === k && t.shape.slice(0, -2).join() === shape.slice(0, -2).join());
      const b = pick(draw, partners);
      const perm = [...b.shape.keys()];
      perm.push(perm.splice(rank - 2, 1)[0]!);
      return ops.matmul(a, ops.transpose(b, perm));
    }
    default: {
      if (rank < 1) return undefined;
      const axis = draw(rank);
      const partners = pool.filter((t) => t.shape.length === rank && t.shape.every((d, j) => j === axis || d === shape[j]));
      return ops.concatenate([a, pick(draw, partners)], axis);
    }
  }
}

/** The traced function of `seed`: outputs, and variable assignments. */
function program(seed: number, vars: keras.Variable[], withGradient: boolean) {
  return (...feeds: Tensor[]): Tensor[] => {
    const draw = draws(seed);
    const body = (): Tensor[] => {
      const pool: Tensor[] = [...feeds, ...vars.map((v) => v.value)];
      const steps = 4 + draw(14);
      for (let s = 0; s < steps; s++) {
        const out = randomOp(draw, pick(draw, pool), pool);
        if (out) pool.push(out);
      }
      const made = pool.slice(feeds.length + vars.length);
      const outs = [pool[pool.length - 1]!];
      if (draw(2) && made.length) outs.push(pick(draw, made)); // an intermediate too: a fused chain's stored member
      return outs;
    };
    if (!withGradient) {
      const outs = body();
      const v = pick(draw, vars);
      const update = sameShape(outs[0]!, v.value) ? outs[0]! : ops.multiply(ops.mean(outs[0]!), 0.1);
      v.assign(ops.add(ops.multiply(v.value, 0.9), update));
      return outs;
    }
    const tape = new keras.GradientTape({ watchAccessedVariables: false });
    tape.watch(...vars);
    let outs: Tensor[] = [];
    const loss = tape.record(() => {
      outs = body();
      return ops.add(ops.mean(ops.square(outs[0]!)), ops.sum(outs[outs.length - 1]!));
    });
    tape.gradient(loss, vars).forEach((g, i) => vars[i]!.assign(ops.subtract(vars[i]!.value, ops.multiply(g, 0.05))));
    return [loss, ...outs];
  };
}

interface Result {
  /** Outputs of two runs (the second after the first's assignments), then the variables. */
  values: { what: string; data: number[] }[];
  native: boolean;
}

async function runProgram(backendName: string, seed: number, dims: [number, number, number], withGradient: boolean): Promise<Result> {
  const [b, m, k] = dims;
  const feedShapes = [[b, m, k], [b, k]];
  const paramShapes = [[k], [m, k], [k, 5], [b, m, k]];
  setBackend(backendName);
  const backend = getBackend(backendName);
  const made = (shape: number[], s: number, scale?: number) =>
    fromValues(Float64Array.from(makeValues({ shape, dtype: 'float64', scale }, s)), shape, 'float64', backend);
  const vars = paramShapes.map((s, i) => new keras.Variable(made(s, 30 + i, 0.4)));
  const feeds = feedShapes.map((s, i) => made(s, 40 + i));
  try {
    const graph = keras.trace(program(seed, vars, withGradient), feedShapes.map((shape) => ({ shape, dtype: 'float64' as const })));
    const exe = backend.compile(graph);
    const values: Result['values'] = [];
    for (let run = 0; run < 2; run++) {
      const outs = run === 0 ? exe.runSync(feeds) : await exe.run(feeds);
      outs.forEach((o, i) => values.push({ what: `run ${run} output ${i} ${JSON.stringify(o.shape)}`, data: Array.from(o.dataSync()) }));
      outs.forEach((o) => o.dispose());
    }
    vars.forEach((v, i) => values.push({ what: `variable ${i} after two runs`, data: Array.from(v.value.dataSync()) }));
    const native = exe instanceof NativeGraphExecutable;
    exe.dispose();
    return { values, native };
  } finally {
    for (const t of [...feeds, ...vars]) t.dispose();
    setBackend('js');
  }
}

describe.skipIf(reason !== null)(`random graphs, native executor vs js${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const sizes: { dims: [number, number, number]; seeds: number }[] = [
    { dims: [6, 8, 12], seeds: 100 },
    { dims: [2, 33, 130], seeds: 30 },
  ];
  for (const { dims, seeds } of sizes) {
    it(`${seeds} programs over feeds [${dims}] and [${dims[0]},${dims[2]}], float64`, async () => {
      const mismatches: string[] = [];
      for (let i = 0; i < seeds; i++) {
        const seed = 1000 * dims[2] + i;
        const withGradient = i % 2 === 1;
        const want = await runProgram('js', seed, dims, withGradient);
        const got = await runProgram('cpu', seed, dims, withGradient);
        expect(got.native, `seed ${seed}: the cpu backend compiled to the native executor`).toBe(true);
        got.values.forEach((v, j) => {
          const w = want.values[j]!;
          const at = v.data.length === w.data.length ? firstMismatch(v.data, w.data, GRAPH.float64) : 0;
          if (at >= 0) mismatches.push(`seed ${seed}${withGradient ? ' (gradient)' : ''} ${v.what}: element ${at} cpu ${v.data[at]} js ${w.data[at]} (${v.data.length} vs ${w.data.length} elements)`);
        });
      }
      expect(mismatches).toEqual([]);
    }, 120_000);
  }
});
