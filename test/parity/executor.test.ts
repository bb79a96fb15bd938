/**
 * The cpu backend's native graph executor against the js backend's interpreted
 * graphs: the same traced graphs (an MLP train step with Adam, a fused elementwise
 * chain with a variable update, a silu/softplus chain and a chain of the other activation primitives
 * (relu6, hardSigmoid, hardSilu, softsign, logSigmoid, selu, hardTanh, leakyRelu, elu, celu) trained with SGD, a conv + pooling
 * train step) give the same values
 * within the graph tolerances, in float32 and float64, with runSync and run.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { DType, Tensor } from '../../lib/index.js';
import { fromValues, getBackend, setBackend } from '../../lib/engine.js';
import { allocate } from '../../lib/dtype.js';
import type { Backend } from '../../lib/backends/backend.js';
import { NativeGraphExecutable } from '../../lib/backends/cpu/executor.js';
import { makeValues } from './cases.js';
import { nativeUnavailableReason } from './harness.js';
import { GRAPH, firstMismatch } from './tolerances.js';

const { ops } = keras;
const reason = nativeUnavailableReason();

function upload(values: number[], shape: number[], dtype: DType, backend: Backend): Tensor {
  const data = allocate(dtype, values.length);
  data.set(values);
  return fromValues(data, shape, dtype, backend);
}

type FloatDType = 'float32' | 'float64';

interface Case {
  name: string;
  dtypes: FloatDType[];
  /** Native ops the case needs (skipped where the engine lacks one). */
  needs?: string[];
  /** Feeds (shape, int domain) and a builder of the traced step over variables made from `param`. */
  feeds: { shape: number[]; dtype?: 'int32'; classes?: number }[];
  params: number[][];
  step: (vars: keras.Variable[], dtype: FloatDType) => { fn: (...xs: Tensor[]) => Tensor[]; extra: keras.Variable[] };
}

/** One SGD step on `vars` through the tape: the loss (recorded), with the variables assigned in the graph. */
function sgdStep(vars: keras.Variable[], rate: number, lossFn: () => Tensor): Tensor {
  const tape = new keras.GradientTape({ watchAccessedVariables: false });
  tape.watch(...vars);
  const loss = tape.record(lossFn);
  tape.gradient(loss, vars).forEach((g, i) => vars[i].assign(ops.subtract(vars[i].value, ops.multiply(g, rate))));
  return loss;
}

const CASES: Case[] = [
  {
    name: 'MLP train step with Adam',
    dtypes: ['float32', 'float64'],
    feeds: [{ shape: [48, 10] }, { shape: [48], dtype: 'int32', classes: 4 }],
    params: [[10, 24], [24], [24, 4], [4]],
    step: (vars) => {
      const opt = new keras.optimizers.Adam(0.02);
      opt.build(vars);
      return {
        extra: opt.variables,
        fn: (x, y) => {
          const tape = new keras.GradientTape({ watchAccessedVariables: false });
          tape.watch(...vars);
          const loss = tape.record(() => {
            const h = ops.tanh(ops.add(ops.matmul(x, vars[0].value), vars[1].value));
            return ops.mean(ops.sparseCategoricalCrossentropy(y, ops.add(ops.matmul(h, vars[2].value), vars[3].value), true));
          });
          opt.apply(tape.gradient(loss, vars), vars);
          return [loss];
        },
      };
    },
  },
  {
    name: 'fused elementwise chain with a variable update',
    dtypes: ['float32', 'float64'],
    feeds: [{ shape: [64, 80] }],
    params: [[64, 80]],
    step: ([v]) => ({
      extra: [],
      fn: (x) => {
        const g = ops.multiply(ops.sigmoid(ops.subtract(ops.multiply(x, v.value), 0.25)), ops.cos(x));
        v.assign(ops.add(ops.multiply(v.value, 0.9), ops.multiply(g, 0.1)));
        return [ops.sum(ops.square(g)), ops.exp(ops.negative(ops.abs(g)))];
      },
    }),
  },
  {
    // The silu and softplus primitives inside fused chains, forward and through their gradient rules.
    name: 'silu and softplus chain trained with SGD',
    dtypes: ['float32', 'float64'],
    feeds: [{ shape: [32, 40] }],
    params: [[32, 40], [40]],
    step: (vars) => ({
      extra: [],
      fn: (x) => {
        const loss = sgdStep(vars, 0.5, () => ops.mean(ops.softplus(ops.subtract(ops.silu(ops.add(ops.multiply(x, vars[0].value), vars[1].value)), 0.5))));
        return [loss, ops.softplus(ops.silu(ops.multiply(x, 40)))];
      },
    }),
  },
  {
    // The activations that were where-based composites, now primitives the planner fuses (the binary ones
    // with their scalar parameter operand), forward and through their gradient rules.
    name: 'activation primitives chain trained with SGD',
    dtypes: ['float32', 'float64'],
    feeds: [{ shape: [32, 40] }],
    params: [[32, 40], [40]],
    step: (vars) => ({
      extra: [],
      fn: (x) => {
        const h = (t: Tensor) => ops.add(ops.multiply(ops.multiply(t, vars[0].value), 4), vars[1].value);
        const loss = sgdStep(vars, 0.5, () => {
          const a = ops.add(ops.relu6(ops.multiply(h(x), 3)), ops.hardSilu(ops.elu(h(x), 0.7)));
          const b = ops.multiply(ops.softsign(ops.leakyRelu(a, 0.1)), ops.selu(ops.celu(ops.subtract(a, 2), 1.3)));
          return ops.mean(ops.add(ops.logSigmoid(b), ops.hardSigmoid(ops.hardTanh(ops.multiply(b, 2)))));
        });
        return [loss, ops.hardSigmoid(ops.relu6(ops.multiply(x, 40)))];
      },
    }),
  },
  {
    name: 'conv + max pooling train step with SGD',
    dtypes: ['float32', 'float64'],
    needs: ['conv', 'convBackpropFilter', 'convBackpropInput', 'maxPool', 'maxPoolGrad'],
    feeds: [{ shape: [4, 6, 6, 3] }, { shape: [4], dtype: 'int32', classes: 3 }],
    params: [[3, 3, 3, 5], [5], [45, 3]],
    step: (vars) => ({
      extra: [],
      fn: (x, y) => {
        const loss = sgdStep(vars, 0.1, () => {
          const c = ops.relu(ops.add(ops.conv(x, vars[0].value, 1, 'same'), vars[1].value));
          const p = ops.reshape(ops.maxPool(c, 2, 2), [-1, 45]);
          return ops.mean(ops.sparseCategoricalCrossentropy(y, ops.matmul(p, vars[2].value), true));
        });
        return [loss];
      },
    }),
  },
  {
    // The single-pass statistics primitives in a traced step (batch dim unknown), forward and
    // through their gradient rules: moments over the batch, var/std over rows, logsumexp.
    name: 'moments, var, std and logsumexp trained with SGD',
    dtypes: ['float32', 'float64'],
    feeds: [{ shape: [24, 12] }],
    params: [[12], [12, 12]],
    step: (vars) => ({
      extra: [],
      fn: (x) => {
        const loss = sgdStep(vars, 0.05, () => {
          const h = ops.matmul(ops.add(x, vars[0].value), vars[1].value);
          const [m, v] = ops.moments(h, [0]);
          return ops.add(ops.add(ops.mean(ops.multiply(m, v)), ops.mean(ops.std(h, -1))), ops.mean(ops.logsumexp(h, -1)));
        });
        return [loss, ops.var(x, 1, true), ops.logsumexp(ops.multiply(x, 30), 1)];
      },
    }),
  },
];

interface Result {
  outputs: number[][][];
  state: number[][];
  native: boolean;
}

async function runCase(c: Case, backendName: string, dtype: FloatDType, mode: 'sync' | 'async'): Promise<Result> {
  setBackend(backendName);
  const backend = getBackend(backendName);
  try {
    const vars = c.params.map((s, i) => new keras.Variable(upload(makeValues({ shape: s, dtype, scale: 0.4 }, 30 + i), s, dtype, backend)));
    const { fn, extra } = c.step(vars, dtype);
    const feeds = c.feeds.map((f, i) =>
      f.dtype === 'int32'
        ? upload(makeValues({ shape: f.shape, dtype: 'int32', domain: { index: f.classes! } }, 40 + i), f.shape, 'int32', backend)
        : upload(makeValues({ shape: f.shape, dtype }, 40 + i), f.shape, dtype, backend),
    );
    const specs = c.feeds.map((f) => ({ shape: [null, ...f.shape.slice(1)], dtype: f.dtype ?? dtype }));
    const graph = keras.trace(fn, specs);
    const exe = backend.compile(graph);
    const outputs: number[][][] = [];
    for (let s = 0; s < 3; s++) {
      const outs = mode === 'async' ? await exe.run(feeds) : exe.runSync(feeds);
      outputs.push(outs.map((o) => Array.from(o.dataSync())));
      outs.forEach((o) => o.dispose());
    }
    const state = [...vars, ...extra].map((v) => Array.from(v.value.dataSync()));
    const native = exe instanceof NativeGraphExecutable;
    exe.dispose();
    for (const t of [...feeds, ...vars, ...extra]) t.dispose();
    return { outputs, state, native };
  } finally {
    setBackend('js');
  }
}

describe.skipIf(reason !== null)(`native graph executor vs the js backend${reason ? ` (skipped: ${reason})` : ''}`, () => {
  for (const c of CASES) {
    for (const dtype of c.dtypes) {
      it(`${c.name}, ${dtype}`, async () => {
        const cpu = getBackend('cpu') as Backend & { nativeOps(): string[] };
        if (c.needs && !c.needs.every((o) => cpu.nativeOps().includes(o))) return;
        const want = await runCase(c, 'js', dtype, 'sync');
        const tol = GRAPH[dtype];
        for (const mode of ['sync', 'async'] as const) {
          const got = await runCase(c, 'cpu', dtype, mode);
          expect(got.native, 'the cpu backend chose the native executor').toBe(true);
          got.outputs.forEach((step, s) =>
            step.forEach((o, k) => expect(firstMismatch(o, want.outputs[s][k], tol), `${mode} step ${s} output ${k}: ${o.slice(0, 4)} vs ${want.outputs[s][k].slice(0, 4)}`).toBe(-1)),
          );
          got.state.forEach((v, i) => expect(firstMismatch(v, want.state[i], tol), `${mode} variable ${i} after 3 steps`).toBe(-1));
        }
      });
    }
  }
});
