/**
 * A compiled graph gives the same values on js and cpu: an MLP train step (forward,
 * softmax cross-entropy, gradients, SGD update as variable updates) traced with
 * keras.trace and run through backend.compile for several steps, in float32 and float64.
 * On cpu both executions are checked: runSync and the async run().
 */
import { describe, expect, it, vi } from 'vitest';
import * as keras from '../../lib/index.js';
import type { DType, Tensor } from '../../lib/index.js';
import { fromValues, getBackend, setBackend } from '../../lib/engine.js';
import { allocate } from '../../lib/dtype.js';
import type { Backend } from '../../lib/backends/backend.js';
import { makeValues } from './cases.js';
import { nativeUnavailableReason } from './harness.js';
import { loadNativeAddon } from '../../lib/backends/cpu/native.js';
import type { CpuBackend } from '../../lib/backends/cpu/index.js';
import { GRAPH, firstMismatch } from './tolerances.js';

const { ops } = keras;
const reason = nativeUnavailableReason();

const BATCH = 256;
const IN = 8;
const HIDDEN = 64; // BATCH x HIDDEN = 16384 elements: the hidden layer runs off the event loop in run()
const CLASSES = 3;
const STEPS = 4;

function upload(values: number[], shape: number[], dtype: DType, backend: Backend): Tensor {
  const data = allocate(dtype, values.length);
  data.set(values);
  return fromValues(data, shape, dtype, backend);
}

interface Run {
  losses: number[];
  weights: number[][];
  /** Tensors of this backend alive after the run that were not before. */
  leaked: number;
}

/** Builds the MLP's variables on `backendName`, traces one train step and runs it STEPS times. */
async function train(backendName: string, dtype: 'float32' | 'float64', mode: 'sync' | 'async', executor: 'auto' | 'interpreted' = 'auto'): Promise<Run> {
  setBackend(backendName);
  const backend = getBackend(backendName);
  const live = () => keras.memory().backends[backendName]?.numTensors ?? 0;
  const before = live();
  try {
    const shapes = [[IN, HIDDEN], [HIDDEN], [HIDDEN, CLASSES], [CLASSES]];
    const vars = shapes.map((s, i) => new keras.Variable(upload(makeValues({ shape: s, dtype, scale: 0.3 }, 11 + i), s, dtype, backend), { name: `mlp_${i}` }));
    const x = upload(makeValues({ shape: [BATCH, IN], dtype }, 3), [BATCH, IN], dtype, backend);
    const labels = upload(makeValues({ shape: [BATCH], dtype: 'int32', domain: { index: CLASSES } }, 5), [BATCH], 'int32', backend);
    const graph = keras.trace(
      (xb: Tensor, yb: Tensor) => {
        const tape = new keras.GradientTape({ watchAccessedVariables: false });
        tape.watch(...vars);
        const loss = tape.record(() => {
          const h = ops.relu(ops.add(ops.matmul(xb, vars[0].value), vars[1].value));
          const logits = ops.add(ops.matmul(ops.tanh(h), vars[2].value), vars[3].value);
          return ops.mean(ops.sparseCategoricalCrossentropy(yb, logits, true));
        });
        const grads = tape.gradient(loss, vars);
        vars.forEach((v, i) => v.assign(ops.subtract(v.value, ops.multiply(grads[i], 0.5))));
        return [loss];
      },
      [{ shape: [null, IN], dtype }, { shape: [null], dtype: 'int32' }],
    );
    const exe = backendName === 'cpu' ? (backend as CpuBackend).compile(graph, { executor }) : backend.compile(graph);
    const losses: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      const [loss] = mode === 'sync' ? exe.runSync([x, labels]) : await exe.run([x, labels]);
      losses.push(loss.item());
      loss.dispose();
    }
    exe.dispose();
    const weights = vars.map((v) => Array.from(v.value.dataSync()));
    for (const t of [x, labels, ...vars]) t.dispose();
    return { losses, weights, leaked: live() - before };
  } finally {
    setBackend('js');
  }
}

function expectSameRun(got: Run, want: Run, dtype: 'float32' | 'float64'): void {
  const tol = GRAPH[dtype];
  expect(firstMismatch(got.losses, want.losses, tol), `losses cpu ${got.losses} vs js ${want.losses}`).toBe(-1);
  got.weights.forEach((w, i) => expect(firstMismatch(w, want.weights[i], tol), `weights ${i} after ${STEPS} steps`).toBe(-1));
}

describe.skipIf(reason !== null)(`compiled MLP train step, cpu vs js${reason ? ` (skipped: ${reason})` : ''}`, () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: losses and weights match step by step (runSync and run)`, async () => {
      const ref = await train('js', dtype, 'sync');
      // Training really happened: the loss went down.
      expect(ref.losses[STEPS - 1]).toBeLessThan(ref.losses[0]);
      // The native executor runs the whole step in one call (synchronously or on a worker thread).
      const sync = await train('cpu', dtype, 'sync');
      const async = await train('cpu', dtype, 'async');
      // The interpreted executable runs node by node; its large nodes go to worker threads.
      const spy = vi.spyOn(loadNativeAddon().raw, 'runOpAsync');
      const interpretedSync = await train('cpu', dtype, 'sync', 'interpreted');
      expect(spy, 'runSync stays on the calling thread').not.toHaveBeenCalled();
      const interpretedAsync = await train('cpu', dtype, 'async', 'interpreted');
      expect(spy).toHaveBeenCalled();
      spy.mockRestore();
      for (const r of [sync, async, interpretedSync, interpretedAsync]) expectSameRun(r, ref, dtype);
      // The cpu executables free what the js one frees (what tracing itself leaves alive shows on both).
      expect(sync.leaked).toBe(ref.leaked);
      expect(async.leaked).toBe(ref.leaked);
    });
  }

  it('run() lets the event loop turn while graphs execute (during a long run, or every few ms across short inline ones)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const started = performance.now();
    let trainings = 0;
    // Short graphs run inline and yield every 8 ms: train for a few of those periods.
    for (; performance.now() - started < 40; trainings++) await train('cpu', 'float32', 'async');
    clearInterval(timer);
    expect(ticks, `timer callbacks during ${trainings} trainings of ${STEPS} steps over ${(performance.now() - started).toFixed(0)} ms`).toBeGreaterThan(0);
  });

  it('a graph that captured js constants runs on cpu (they are copied at compile time)', async () => {
    setBackend('js');
    const scale = ops.convertToTensor([2, 3], 'float32'); // captured eagerly on js
    const graph = keras.trace((a: Tensor) => [ops.multiply(a, scale)], [{ shape: [2], dtype: 'float32' }]);
    setBackend('cpu');
    const cpu = getBackend('cpu');
    const exe = cpu.compile(graph);
    const a = ops.convertToTensor([1.5, -1], 'float32');
    const [y] = await exe.run([a]);
    expect(y.backend).toBe(cpu);
    expect(Array.from(y.dataSync())).toEqual([3, -3]);
    const [z] = exe.runSync([a]);
    expect(Array.from(z.dataSync())).toEqual([3, -3]);
    for (const t of [a, y, z]) t.dispose();
    exe.dispose();
    // The executable owned the graph's constants (the js one it copied from, too); the caller's
    // tensor is its own handle and stays.
    const captured = [...graph.placeholders.values()].flatMap((p) => (p.kind === 'constant' ? [p.value.isDisposed] : []));
    expect(captured, 'the graph\'s captured constant after the cpu executable\'s dispose()').toEqual([true]);
    expect(Array.from(scale.dataSync())).toEqual([2, 3]);
    scale.dispose();
    expect(() => cpu.compile(graph)).toThrow(/^cpu: compile: the graph was disposed/);
    setBackend('js');
  });
});
