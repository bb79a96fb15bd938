/**
 * keras.optimizers: each optimizer's first three steps against the Keras 3 update formulas
 * written out in plain JS numbers; clipping, weight decay, gradient accumulation, EMA,
 * learning-rate handling, configs, identifiers and errors.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import * as optimizers from '../../lib/optimizers/index.js';
import type { Optimizer } from '../../lib/optimizers/index.js';
import { expectClose } from '../helpers.js';

const { ops } = keras;
type DT = 'float32' | 'float64';

function tensor(values: number[], dtype: DT = 'float64'): keras.Tensor {
  return ops.convertToTensor(dtype === 'float64' ? new Float64Array(values) : new Float32Array(values));
}

function variable(values: number[], dtype: DT = 'float64', name = 'w'): keras.Variable {
  const t = tensor(values, dtype);
  const v = new keras.Variable(t, { name });
  t.dispose();
  return v;
}

const W0 = [1.0, -2.0, 0.5];
const GRADS = [
  [0.1, -0.2, 0.3],
  [0.4, 0.1, -0.5],
  [-0.3, 0.6, 0.0],
];

/** Applies `grads` one step at a time; returns the variable's values after each step. */
function runSteps(opt: Optimizer, grads: number[][] = GRADS, w0: number[] = W0, dtype: DT = 'float64'): number[][] {
  const v = variable(w0, dtype);
  return grads.map((g) => {
    const gt = tensor(g, dtype);
    opt.apply([gt], [v]);
    gt.dispose();
    return Array.from(v.value.dataSync());
  });
}

/**
 * The reference: `step(w, g, state, t)` updates one element (t = iterations before the step, 0-based)
 * and returns the new w; state starts from `init()` per element.
 */
function reference(step: (w: number, g: number, s: Record<string, number>, t: number) => number, init: () => Record<string, number> = () => ({}), grads = GRADS, w0 = W0): number[][] {
  const w = [...w0];
  const states = w0.map(() => init());
  return grads.map((g, t) => {
    for (let i = 0; i < w.length; i++) w[i] = step(w[i], g[i], states[i], t);
    return [...w];
  });
}

function expectSteps(got: number[][], want: number[][], rtol = 1e-12, atol = 1e-14): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expectClose(ops.convertToTensor(new Float64Array(g)), want[i], { rtol, atol }));
}

// The learning rate lives in a float32 variable, so formulas use its float32 value.
const f = Math.fround;

describe('update rules (three steps, float64, against the Keras formulas)', () => {
  it('SGD: w -= lr g', () => {
    const lr = f(0.1);
    expectSteps(runSteps(new optimizers.SGD(0.1)), reference((w, g) => w - g * lr));
  });

  it('SGD with momentum: m = mom m - lr g; w += m', () => {
    const lr = f(0.1);
    const mom = 0.9;
    const want = reference(
      (w, g, s) => {
        s.m = s.m * mom - g * lr;
        return w + s.m;
      },
      () => ({ m: 0 }),
    );
    expectSteps(runSteps(new optimizers.SGD({ learningRate: 0.1, momentum: 0.9 })), want);
  });

  it('SGD with Nesterov momentum: w += mom m - lr g', () => {
    const lr = f(0.05);
    const mom = 0.8;
    const want = reference(
      (w, g, s) => {
        s.m = s.m * mom - g * lr;
        return w + (s.m * mom - g * lr);
      },
      () => ({ m: 0 }),
    );
    expectSteps(runSteps(new optimizers.SGD(0.05, { momentum: 0.8, nesterov: true })), want);
  });

  const adamStep =
    (lr: number, b1: number, b2: number, eps: number, amsgrad = false) =>
    (w: number, g: number, s: Record<string, number>, t: number) => {
      const b1p = b1 ** (t + 1);
      const b2p = b2 ** (t + 1);
      const alpha = (lr * Math.sqrt(1 - b2p)) / (1 - b1p);
      s.m += (g - s.m) * (1 - b1);
      s.v += (g * g - s.v) * (1 - b2);
      let v = s.v;
      if (amsgrad) {
        s.vh = Math.max(s.vh, s.v);
        v = s.vh;
      }
      return w - (s.m * alpha) / (Math.sqrt(v) + eps);
    };

  it('Adam: alpha = lr sqrt(1 - b2^t) / (1 - b1^t), epsilon added to sqrt(v)', () => {
    const want = reference(adamStep(f(0.01), 0.9, 0.999, 1e-7), () => ({ m: 0, v: 0 }));
    expectSteps(runSteps(new optimizers.Adam({ learningRate: 0.01 })), want);
  });

  it('Adam with non-default betas, epsilon and AMSGrad', () => {
    // Large then small gradients, so the running max of v differs from v.
    const grads = [
      [1.0, -2.0, 0.5],
      [0.01, 0.02, -0.01],
      [0.02, -0.01, 0.03],
    ];
    const want = reference(adamStep(f(0.1), 0.8, 0.9, 1e-3, true), () => ({ m: 0, v: 0, vh: 0 }), grads);
    const opt = new optimizers.Adam({ learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 1e-3, amsgrad: true });
    expectSteps(runSteps(opt, grads), want);
    const plain = reference(adamStep(f(0.1), 0.8, 0.9, 1e-3, false), () => ({ m: 0, v: 0, vh: 0 }), grads);
    expect(Math.abs(plain[2][0] - want[2][0])).toBeGreaterThan(1e-3);
  });

  it('Adam on float32 variables follows the same formulas', () => {
    const want = reference(adamStep(f(0.01), 0.9, 0.999, 1e-7), () => ({ m: 0, v: 0 }));
    expectSteps(runSteps(new optimizers.Adam(0.01), GRADS, W0, 'float32'), want, 1e-6, 1e-7);
  });

  it('Adam updating a float64 and a float32 variable in one call: each follows the formulas in its dtype', () => {
    const want = reference(adamStep(f(0.01), 0.9, 0.999, 1e-7), () => ({ m: 0, v: 0 }));
    const opt = new optimizers.Adam(0.01);
    const w64 = variable(W0, 'float64', 'w64');
    const w32 = variable(W0, 'float32', 'w32');
    const got: { f64: number[][]; f32: number[][] } = { f64: [], f32: [] };
    for (const g of GRADS) {
      const [g64, g32] = [tensor(g, 'float64'), tensor(g, 'float32')];
      opt.applyGradients([
        [g64, w64],
        [g32, w32],
      ]);
      for (const t of [g64, g32]) t.dispose();
      got.f64.push(Array.from(w64.value.dataSync()));
      got.f32.push(Array.from(w32.value.dataSync()));
    }
    expectSteps(got.f64, want);
    expectSteps(got.f32, want, 1e-6, 1e-7);
    expect(Number(opt.iterations.value.dataSync()[0]), 'iterations after three calls').toBe(3);
  });

  it('AdamW: w -= w wd lr, then the Adam update (default weightDecay 0.004)', () => {
    const lr = f(0.01);
    const adam = adamStep(lr, 0.9, 0.999, 1e-7);
    const want = reference((w, g, s, t) => adam(w - w * 0.004 * lr, g, s, t), () => ({ m: 0, v: 0 }));
    const opt = new optimizers.AdamW({ learningRate: 0.01 });
    expect(opt.weightDecay).toBe(0.004);
    expectSteps(runSteps(opt), want);
    const wd = 0.5;
    const want2 = reference((w, g, s, t) => adam(w - w * wd * lr, g, s, t), () => ({ m: 0, v: 0 }));
    expectSteps(runSteps(new optimizers.AdamW(0.01, { weightDecay: wd })), want2);
  });

  it('Adamax: u = max(b2 u, |g|); w -= lr m / ((1 - b1^t)(u + eps))', () => {
    const lr = f(0.02);
    const [b1, b2, eps] = [0.9, 0.999, 1e-7];
    const want = reference(
      (w, g, s, t) => {
        s.m += (g - s.m) * (1 - b1);
        s.u = Math.max(b2 * s.u, Math.abs(g));
        return w - (lr * s.m) / ((1 - b1 ** (t + 1)) * (s.u + eps));
      },
      () => ({ m: 0, u: 0 }),
    );
    expectSteps(runSteps(new optimizers.Adamax(0.02)), want);
  });

  it('Nadam: momentum schedule u_t = b1 (1 - 0.5 * 0.96^t) and its running product', () => {
    const lr = f(0.01);
    const [b1, b2, eps] = [0.9, 0.999, 1e-7];
    let uProduct = 1;
    const w = [...W0];
    const ms = W0.map(() => 0);
    const vs = W0.map(() => 0);
    const want = GRADS.map((g, t) => {
      uProduct = uProduct * b1 * (1 - 0.5 * 0.96 ** (t + 1));
      const uT = b1 * (1 - 0.5 * 0.96 ** (t + 1));
      const uT1 = b1 * (1 - 0.5 * 0.96 ** (t + 2));
      const uProductT1 = uProduct * uT1;
      const b2p = b2 ** (t + 1);
      for (let i = 0; i < w.length; i++) {
        ms[i] += (g[i] - ms[i]) * (1 - b1);
        vs[i] += (g[i] * g[i] - vs[i]) * (1 - b2);
        const mHat = (uT1 * ms[i]) / (1 - uProductT1) + ((1 - uT) * g[i]) / (1 - uProduct);
        const vHat = vs[i] / (1 - b2p);
        w[i] -= (mHat * lr) / (Math.sqrt(vHat) + eps);
      }
      return [...w];
    });
    expectSteps(runSteps(new optimizers.Nadam(0.01)), want);
  });

  const rmsStep =
    (lr: number, rho: number, momentum: number, eps: number, centered: boolean) =>
    (w: number, g: number, s: Record<string, number>) => {
      s.v = rho * s.v + (1 - rho) * g * g;
      let den: number;
      if (centered) {
        s.a = rho * s.a + (1 - rho) * g;
        den = s.v - s.a * s.a + eps;
      } else den = s.v + eps;
      const inc = (lr * g) / Math.sqrt(den);
      if (momentum > 0) {
        s.mo = momentum * s.mo + inc;
        return w - s.mo;
      }
      return w - inc;
    };

  it('RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps)', () => {
    const want = reference(rmsStep(f(0.01), 0.9, 0, 1e-7, false), () => ({ v: 0, a: 0, mo: 0 }));
    expectSteps(runSteps(new optimizers.RMSprop(0.01)), want);
  });

  it('RMSprop centered with momentum', () => {
    const want = reference(rmsStep(f(0.01), 0.8, 0.5, 1e-6, true), () => ({ v: 0, a: 0, mo: 0 }));
    const opt = new optimizers.RMSprop({ learningRate: 0.01, rho: 0.8, momentum: 0.5, epsilon: 1e-6, centered: true });
    expectSteps(runSteps(opt), want);
    expect(opt.variables.map((v) => v.name.replace(/_\d+/g, ''))).toEqual(['iteration', 'learning_rate', 'w_velocity', 'w_momentum', 'w_average_gradient']);
  });

  it('Adagrad: acc (from 0.1) += g^2; w -= lr g / sqrt(acc + eps)', () => {
    const lr = f(0.1);
    const want = reference(
      (w, g, s) => {
        s.acc += g * g;
        return w - (lr * g) / Math.sqrt(s.acc + 1e-7);
      },
      () => ({ acc: 0.1 }),
    );
    expectSteps(runSteps(new optimizers.Adagrad(0.1)), want);
    const want2 = reference(
      (w, g, s) => {
        s.acc += g * g;
        return w - (lr * g) / Math.sqrt(s.acc + 1e-7);
      },
      () => ({ acc: 0.5 }),
    );
    expectSteps(runSteps(new optimizers.Adagrad(0.1, { initialAccumulatorValue: 0.5 })), want2);
  });

  it('Adadelta: rho 0.95, delta = -sqrt(Ed + eps) g / sqrt(Eg + eps)', () => {
    const lr = f(1.0);
    const [rho, eps] = [0.95, 1e-7];
    const want = reference(
      (w, g, s) => {
        s.eg = rho * s.eg + (1 - rho) * g * g;
        const d = -(Math.sqrt(s.ed + eps) * g) / Math.sqrt(s.eg + eps);
        s.ed = rho * s.ed + (1 - rho) * d * d;
        return w + lr * d;
      },
      () => ({ eg: 0, ed: 0 }),
    );
    const got = runSteps(new optimizers.Adadelta(1.0));
    expectSteps(got, want);
    expect(Math.abs(got[2][0] - W0[0])).toBeGreaterThan(1e-4);
  });

  it('Lion: w -= lr sign(b1 m + (1 - b1) g); m = b2 m + (1 - b2) g (beta1 0.9, beta2 0.99)', () => {
    const lr = f(0.01);
    const [b1, b2] = [0.9, 0.99];
    const want = reference(
      (w, g, s) => {
        const next = w - lr * Math.sign(s.m * b1 + g * (1 - b1));
        s.m = s.m * b2 + g * (1 - b2);
        return next;
      },
      () => ({ m: 0 }),
    );
    // The third gradient has a 0 whose sign would be 0 without momentum; with momentum it is not.
    expectSteps(runSteps(new optimizers.Lion(0.01)), want);
  });
});

describe('clipping', () => {
  it('clipnorm clips each gradient to that L2 norm; small and zero gradients pass', () => {
    const opt = new optimizers.SGD({ learningRate: 1.0, clipnorm: 1.0 });
    const a = variable([0, 0], 'float64', 'a');
    const b = variable([0, 0], 'float64', 'b');
    const c = variable([1, 1], 'float64', 'c');
    opt.apply([tensor([3, 4]), tensor([0.3, 0.4]), tensor([0, 0])], [a, b, c]);
    expectClose(a.value, [-0.6, -0.8], { rtol: 1e-12 });
    expectClose(b.value, [-0.3, -0.4], { rtol: 1e-12 });
    expectClose(c.value, [1, 1]);
  });

  it('clipvalue clips elements to [-clipvalue, clipvalue]', () => {
    const opt = new optimizers.SGD({ learningRate: 1.0, clipvalue: 0.5 });
    const a = variable([0, 0, 0]);
    opt.apply([tensor([3, -4, 0.2])], [a]);
    expectClose(a.value, [-0.5, 0.5, -0.2], { rtol: 1e-12 });
  });

  it('globalClipnorm scales all gradients by clip / global norm', () => {
    const opt = new optimizers.SGD({ learningRate: 1.0, globalClipnorm: 1.0 });
    const a = variable([0, 0], 'float64', 'a');
    const b = variable([0], 'float64', 'b');
    opt.apply([tensor([3, 4]), tensor([12])], [a, b]);
    expectClose(a.value, [-3 / 13, -4 / 13], { rtol: 1e-12 });
    expectClose(b.value, [-12 / 13], { rtol: 1e-12 });
    const small = new optimizers.SGD({ learningRate: 1.0, globalClipnorm: 100 });
    small.apply([tensor([3, 4]), tensor([12])], [a, b]);
    expectClose(a.value, [-3 / 13 - 3, -4 / 13 - 4], { rtol: 1e-12 });
  });

  it('clipping happens before the update (Adam sees the clipped gradient)', () => {
    const lr = f(0.01);
    const opt = new optimizers.Adam({ learningRate: 0.01, clipvalue: 0.25 });
    const got = runSteps(opt);
    const clipped = GRADS.map((g) => g.map((x) => Math.max(-0.25, Math.min(0.25, x))));
    const want = reference(
      (w, g, s, t) => {
        s.m += (g - s.m) * 0.1;
        s.v += (g * g - s.v) * (1 - 0.999);
        const alpha = (lr * Math.sqrt(1 - 0.999 ** (t + 1))) / (1 - 0.9 ** (t + 1));
        return w - (s.m * alpha) / (Math.sqrt(s.v) + 1e-7);
      },
      () => ({ m: 0, v: 0 }),
      clipped,
    );
    expectSteps(got, want);
  });

  it('only one clipping argument may be set', () => {
    expect(() => new optimizers.SGD({ clipnorm: 1, clipvalue: 1 })).toThrow(/only one of clipnorm, clipvalue and globalClipnorm/);
  });
});

describe('weight decay', () => {
  it('the base optimizer decays w -= w wd lr before the gradient update', () => {
    const lr = f(0.1);
    const want = reference((w, g) => w - w * 0.5 * lr - g * lr);
    expectSteps(runSteps(new optimizers.SGD({ learningRate: 0.1, weightDecay: 0.5 })), want);
  });

  it('excludeFromWeightDecay by variable or by name', () => {
    const opt = new optimizers.SGD({ learningRate: 0.5, weightDecay: 1.0 });
    const kernel = variable([2], 'float64', 'dense_kernel');
    const bias = variable([2], 'float64', 'dense_bias');
    const other = variable([2], 'float64', 'other');
    opt.excludeFromWeightDecay({ varNames: ['bias'], varList: [other] });
    opt.apply([tensor([0]), tensor([0]), tensor([0])], [kernel, bias, other]);
    expectClose(kernel.value, [1]);
    expectClose(bias.value, [2]);
    expectClose(other.value, [2]);
    expect(() => opt.excludeFromWeightDecay({ varNames: ['x'] })).toThrow(/before the optimizer is built/);
  });
});

describe('gradient accumulation', () => {
  it('variables change only every N steps, with the averaged gradient', () => {
    const lr = f(0.5);
    const grads = [[0.3], [0.6], [1.2], [1.0], [2.0], [-3.0]];
    const opt = new optimizers.SGD({ learningRate: 0.5, gradientAccumulationSteps: 3 });
    const got = runSteps(opt, grads, [1.0]);
    const first = 1.0 - lr * ((0.3 + 0.6 + 1.2) / 3);
    const second = first - lr * ((1.0 + 2.0 - 3.0) / 3);
    expectSteps(got, [[1.0], [1.0], [first], [first], [first], [second]]);
    expect(opt.iterations.value.item()).toBe(6);
    // Accumulators were reset after the last update.
    const acc = opt.variables.find((v) => v.name.includes('gradient_accumulator'))!;
    expectClose(acc.value, [0]);
  });

  it('Adam slots and bias correction count applied updates (t = iterations // N + 1)', () => {
    const lr = f(0.01);
    const grads = [[0.2, -0.4], [0.6, 0.0], [1.0, 1.0], [-1.0, 0.5]];
    const opt = new optimizers.Adam({ learningRate: 0.01, gradientAccumulationSteps: 2 });
    const got = runSteps(opt, grads, [1.0, 2.0]);
    const averaged = [
      [0.4, -0.2],
      [0.0, 0.75],
    ];
    const updates = reference(
      (w, g, s, t) => {
        s.m += (g - s.m) * 0.1;
        s.v += (g * g - s.v) * (1 - 0.999);
        const alpha = (lr * Math.sqrt(1 - 0.999 ** (t + 1))) / (1 - 0.9 ** (t + 1));
        return w - (s.m * alpha) / (Math.sqrt(s.v) + 1e-7);
      },
      () => ({ m: 0, v: 0 }),
      averaged,
      [1.0, 2.0],
    );
    expectSteps(got, [[1.0, 2.0], updates[0], updates[0], updates[1]]);
  });

  it('with weight decay and clipping applied to the averaged gradient on update steps only', () => {
    const lr = f(0.5);
    const grads = [[4.0], [0.0]];
    const opt = new optimizers.SGD({ learningRate: 0.5, gradientAccumulationSteps: 2, weightDecay: 0.1, clipvalue: 1.0 });
    const got = runSteps(opt, grads, [1.0]);
    const w1 = 1.0 - 1.0 * 0.1 * lr - lr * Math.min(1.0, (4.0 + 0.0) / 2);
    expectSteps(got, [[1.0], [w1]]);
  });

  it('rejects steps < 2', () => {
    expect(() => new optimizers.SGD({ gradientAccumulationSteps: 1 })).toThrow(/gradientAccumulationSteps must be an integer >= 2/);
  });
});

describe('EMA', () => {
  it('averages with momentum 0 on the first step, then emaMomentum; finalizeVariableValues swaps them in', () => {
    const lr = f(0.5);
    const opt = new optimizers.SGD({ learningRate: 0.5, useEma: true, emaMomentum: 0.9 });
    const got = runSteps(opt, [[1.0], [2.0], [-1.0]], [1.0]);
    const w = [1.0 - lr * 1.0];
    w.push(w[0] - lr * 2.0);
    w.push(w[1] + lr * 1.0);
    expectSteps(got, [[w[0]], [w[1]], [w[2]]]);
    let avg = w[0];
    avg = 0.9 * avg + 0.1 * w[1];
    avg = 0.9 * avg + 0.1 * w[2];
    const average = opt.variables.find((v) => v.name.includes('average'))!;
    expectClose(average.value, [avg], { rtol: 1e-12 });
    const v = opt.trainableVariables[0];
    opt.finalizeVariableValues([v]);
    expectClose(v.value, [avg], { rtol: 1e-12 });
  });

  it('emaOverwriteFrequency overwrites the variables with the averages every N steps', () => {
    const lr = f(0.5);
    const opt = new optimizers.SGD({ learningRate: 0.5, useEma: true, emaMomentum: 0.5, emaOverwriteFrequency: 2 });
    const got = runSteps(opt, [[1.0], [2.0], [4.0]], [1.0]);
    const w1 = 1.0 - lr * 1.0; // average = w1
    const w2raw = w1 - lr * 2.0;
    const avg2 = 0.5 * w1 + 0.5 * w2raw; // step 2: (1 + 1) % 2 == 0, overwrite
    const w3 = avg2 - lr * 4.0;
    expectSteps(got, [[w1], [avg2], [w3]]);
  });

  it('validates emaMomentum and emaOverwriteFrequency', () => {
    expect(() => new optimizers.Adam({ useEma: true, emaMomentum: 1.5 })).toThrow(/emaMomentum must be in the range \[0, 1\]/);
    expect(() => new optimizers.Adam({ useEma: true, emaOverwriteFrequency: 0.5 })).toThrow(/emaOverwriteFrequency must be an integer >= 1/);
  });
});

describe('learning rate', () => {
  it('is a float32 variable read back as a number, and the setter assigns it', () => {
    const opt = new optimizers.SGD(0.1);
    expect(opt.learningRate).toBe(0.1);
    const lrVar = opt.variables[1];
    expect(lrVar.name).toMatch(/^learning_rate/);
    expect(lrVar.dtype).toBe('float32');
    expect(lrVar.trainable).toBe(false);
    const v = variable([1.0]);
    opt.apply([tensor([1.0])], [v]);
    opt.learningRate = 0.25;
    expect(opt.learningRate).toBe(0.25);
    expect(opt.variables[1]).toBe(lrVar);
    opt.apply([tensor([1.0])], [v]);
    expectClose(v.value, [1.0 - f(0.1) - 0.25], { rtol: 1e-12 });
  });

  it('a schedule is evaluated on the iteration count before the increment', () => {
    const schedule = new optimizers.schedules.ExponentialDecay(0.5, 1, 0.5);
    const opt = new optimizers.SGD({ learningRate: schedule });
    expect(opt.variables.map((v) => v.name.replace(/_\d+/g, ''))).toEqual(['iteration']);
    const got = runSteps(opt, [[1.0], [1.0], [1.0]], [0.0]);
    expectSteps(got, [[-0.5], [-0.75], [-0.875]], 1e-7);
    expect(opt.learningRate).toBe(0.0625);
    expect(() => {
      opt.learningRate = 0.1;
    }).toThrow(/LearningRateSchedule as its learningRate, hence its learning rate is not settable/);
  });

  it('a number optimizer can switch to a schedule', () => {
    const opt = new optimizers.SGD(0.1);
    opt.learningRate = new optimizers.schedules.InverseTimeDecay(1.0, 1, 1.0);
    expect(opt.variables.length).toBe(1);
    const got = runSteps(opt, [[1.0], [1.0]], [0.0]);
    expectSteps(got, [[-1.0], [-1.5]], 1e-7);
  });

  it('a function learning rate is called every step', () => {
    let calls = 0;
    const opt = new optimizers.SGD({
      learningRate: () => {
        calls++;
        return 0.5;
      },
    });
    runSteps(opt, [[1.0], [1.0]], [0.0]);
    expect(calls).toBe(2);
  });

  it('rejects a bad learning rate', () => {
    expect(() => new optimizers.Adam({ learningRate: 'fast' as unknown as number })).toThrow(/learningRate should be a number, a LearningRateSchedule/);
  });
});

describe('state and API', () => {
  it('variables: iteration, learning_rate, then slots interleaved per variable as Keras orders them', () => {
    const opt = new optimizers.Adam({ amsgrad: true });
    const k = variable([1, 2], 'float64', 'kernel');
    const b = variable([1], 'float32', 'bias');
    opt.build([k, b]);
    expect(opt.variables.map((v) => v.name.replace(/_\d+/g, ''))).toEqual([
      'iteration',
      'learning_rate',
      'kernel_momentum',
      'kernel_velocity',
      'bias_momentum',
      'bias_velocity',
      'kernel_velocity_hat',
      'bias_velocity_hat',
    ]);
    expect(opt.iterations.dtype).toBe('int32');
    expect(opt.iterations.name).toMatch(/^iteration/);
    expect(opt.variables[2].dtype).toBe('float64');
    expect(opt.variables[4].dtype).toBe('float32');
    expect(opt.variables.every((v) => !v.trainable)).toBe(true);
  });

  it('applyGradients takes [gradient, variable] pairs, skips null gradients and returns iterations', () => {
    const opt = new optimizers.SGD(0.5);
    const a = variable([1], 'float64', 'a');
    const b = variable([1], 'float64', 'b');
    const it1 = opt.applyGradients([
      [tensor([1.0]), a],
      [null, b],
    ]);
    expect(it1).toBe(opt.iterations);
    expect(opt.iterations.value.item()).toBe(1);
    expectClose(a.value, [0.5]);
    expectClose(b.value, [1.0]);
    // Without variables the gradients follow the build order.
    opt.apply([tensor([1.0]), tensor([2.0])]);
    expectClose(a.value, [0.0]);
    expectClose(b.value, [0.0]);
  });

  it('float32 gradients for float64 variables are cast', () => {
    const opt = new optimizers.SGD(0.5);
    const a = variable([1]);
    opt.apply([tensor([1.0], 'float32')], [a]);
    expect(a.dtype).toBe('float64');
    expectClose(a.value, [0.5]);
  });

  it('lossScaleFactor divides gradients; scaleLoss multiplies the loss', () => {
    const opt = new optimizers.SGD({ learningRate: 0.5, lossScaleFactor: 4 });
    const a = variable([1]);
    opt.apply([tensor([8.0])], [a]);
    expectClose(a.value, [0.0]);
    expectClose(opt.scaleLoss(tensor([2.0])), [8.0]);
  });

  it('a user subclass implements updateStep with ops and this.assign*', () => {
    class HalfStep extends optimizers.Optimizer {
      updateStep(gradient: keras.Tensor, v: keras.Variable, lr: keras.Tensor): void {
        this.assignSub(v, ops.multiply(ops.multiply(gradient, ops.cast(lr, v.dtype)), 0.5));
      }
    }
    const opt = new HalfStep({ learningRate: 1.0 });
    expect(opt.name).toBe('half_step');
    const got = runSteps(opt, [[1.0], [2.0]], [0.0]);
    expectSteps(got, [[-0.5], [-1.5]]);
  });

  it('memory stays flat across eager steps', () => {
    const opt = new optimizers.Adam({ learningRate: 0.01, clipnorm: 1, useEma: true, gradientAccumulationSteps: 2, weightDecay: 0.01 });
    const v = variable([1, 2, 3]);
    const g = tensor([0.1, 0.2, 0.3]);
    opt.apply([g], [v]);
    const before = keras.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.apply([g], [v]);
    expect(keras.memory().numTensors).toBe(before);
  });
});

describe('config and identifiers', () => {
  it('getConfig / fromConfig round-trips every optimizer', () => {
    const all: Optimizer[] = [
      new optimizers.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true, clipnorm: 1 }),
      new optimizers.Adam({ learningRate: 0.002, beta1: 0.8, amsgrad: true, useEma: true, emaOverwriteFrequency: 5 }),
      new optimizers.AdamW({ weightDecay: 0.01 }),
      new optimizers.Adamax({ beta2: 0.99 }),
      new optimizers.Nadam({ epsilon: 1e-6, gradientAccumulationSteps: 4 }),
      new optimizers.RMSprop({ rho: 0.8, centered: true, globalClipnorm: 2 }),
      new optimizers.Adagrad({ initialAccumulatorValue: 0.2 }),
      new optimizers.Adadelta({ rho: 0.9 }),
      new optimizers.Lion({ beta1: 0.95, clipvalue: 3 }),
    ];
    for (const opt of all) {
      const config = opt.getConfig();
      const Cls = opt.constructor as unknown as { fromConfig(c: Record<string, unknown>): Optimizer };
      const again = Cls.fromConfig(config);
      expect(again.constructor).toBe(opt.constructor);
      expect(again.getConfig()).toEqual(config);
      const viaGet = optimizers.get(optimizers.serialize(opt) as unknown as Record<string, unknown>);
      expect(viaGet.getConfig()).toEqual(config);
    }
    expect(all[1].getConfig()).toMatchObject({ name: 'adam', learningRate: 0.002, beta1: 0.8, beta2: 0.999, epsilon: 1e-7, amsgrad: true, useEma: true, emaMomentum: 0.99, emaOverwriteFrequency: 5 });
  });

  it("accepts Keras' snake_case configs and serialized schedules", () => {
    const opt = optimizers.get({
      class_name: 'Adam',
      config: {
        name: 'adam',
        learning_rate: { module: 'keras.optimizers.schedules', class_name: 'ExponentialDecay', config: { initial_learning_rate: 0.1, decay_steps: 10, decay_rate: 0.5, staircase: true, name: 'ExponentialDecay' }, registered_name: null },
        beta_1: 0.8,
        beta_2: 0.99,
        weight_decay: null,
        global_clipnorm: null,
        use_ema: false,
        ema_overwrite_frequency: null,
        gradient_accumulation_steps: null,
      },
    }) as optimizers.Adam;
    expect(opt).toBeInstanceOf(optimizers.Adam);
    expect(opt.beta1).toBe(0.8);
    expect(opt.beta2).toBe(0.99);
    expect(opt.learningRateSchedule).toBeInstanceOf(optimizers.schedules.ExponentialDecay);
    expect(opt.learningRate).toBe(0.1);
    const round = optimizers.Adam.fromConfig(opt.getConfig());
    expect(round.learningRateSchedule?.getConfig()).toEqual({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true, name: 'ExponentialDecay' });
  });

  it('get resolves Keras names case-insensitively and returns instances as they are', () => {
    const cases: [string, unknown, string][] = [
      ['adam', optimizers.Adam, 'adam'],
      ['Adam', optimizers.Adam, 'adam'],
      ['sgd', optimizers.SGD, 'SGD'],
      ['SGD', optimizers.SGD, 'SGD'],
      ['rmsprop', optimizers.RMSprop, 'rmsprop'],
      ['RMSprop', optimizers.RMSprop, 'rmsprop'],
      ['adamw', optimizers.AdamW, 'adamw'],
      ['AdamW', optimizers.AdamW, 'adamw'],
      ['adamax', optimizers.Adamax, 'adamax'],
      ['nadam', optimizers.Nadam, 'nadam'],
      ['adagrad', optimizers.Adagrad, 'adagrad'],
      ['adadelta', optimizers.Adadelta, 'adadelta'],
      ['lion', optimizers.Lion, 'lion'],
    ];
    for (const [id, cls, name] of cases) {
      const opt = optimizers.get(id);
      expect(opt.constructor).toBe(cls);
      expect(opt.name).toBe(name);
    }
    expect(optimizers.get('sgd').learningRate).toBe(0.01);
    expect(optimizers.get('adam').learningRate).toBe(0.001);
    const inst = new optimizers.Lion();
    expect(optimizers.get(inst)).toBe(inst);
  });

  it('bad identifiers and arguments raise clear errors', () => {
    expect(() => optimizers.get('adamm')).toThrow(/Could not interpret optimizer identifier: 'adamm'\. Known optimizers: .*'adam'.*'sgd'/);
    expect(() => optimizers.get(42 as unknown as string)).toThrow(/Could not interpret optimizer identifier: 42/);
    expect(() => optimizers.get({ config: {} })).toThrow(/expected \{className, config\}/);
    expect(() => new optimizers.Adam({ beta_1: 0.9 } as unknown as optimizers.AdamOptions)).toThrow(/Adam: argument\(s\) not recognized: beta_1/);
    expect(() => new optimizers.SGD({ momentum: 1.5 })).toThrow(/SGD: momentum must be a number in \[0, 1\]/);
    expect(() => new optimizers.AdamW({ weightDecay: null })).toThrow(/AdamW: argument weightDecay must be a number/);
    expect(() => new optimizers.Lion({ beta1: 0 })).toThrow(/beta1 must be in the \(0, 1\] range/);
    expect(() => new optimizers.Adagrad({ initialAccumulatorValue: -1 })).toThrow(/initialAccumulatorValue must be non-negative/);
  });

  it('apply errors name the optimizer, the variable and the shapes', () => {
    const opt = new optimizers.Adam();
    const v = variable([1, 2, 3], 'float64', 'kernel');
    expect(() => opt.apply([tensor([1])])).toThrow(/adam\.apply: when passing grads without variables, the optimizer must already be built/);
    expect(() => opt.apply([tensor([1, 2])], [v])).toThrow(/adam\.apply: gradient of shape \(2,\) does not match variable kernel\S* of shape \(3,\)/);
    expect(() => opt.apply([tensor([1, 2, 3]), tensor([1])], [v])).toThrow(/received 2 gradients for 1 variables/);
    const other = variable([1], 'float64', 'other');
    expect(() => opt.apply([tensor([1])], [other])).toThrow(/unknown variable .*other.*recreate a new optimizer/);
    expect(() => opt.apply([null], [v])).toThrow(/no gradients provided for any variable/);
    const ints = new keras.Variable(ops.convertToTensor([1, 2]), { name: 'counts' });
    expect(() => new optimizers.SGD().build([ints])).toThrow(/variable counts\S* \(2,\) has dtype int32; only float variables can be optimized/);
  });
});

describe('weights', () => {
  it('saveOwnVariables / loadOwnVariables restore the full state, so training continues identically', () => {
    const make = () => new optimizers.Adam({ learningRate: 0.01, amsgrad: true });
    const a = make();
    const va = variable([1, 2, 3], 'float64', 'a');
    a.apply([tensor([0.1, 0.2, 0.3])], [va]);
    const store: Record<string, keras.Tensor> = {};
    a.saveOwnVariables(store);
    expect(Object.keys(store)).toEqual(['0', '1', '2', '3', '4']);
    expect(store['0'].item()).toBe(1);

    const b = make();
    const vb = variable(Array.from(va.value.dataSync()), 'float64', 'b');
    const unbuilt: Record<string, keras.Tensor> = {};
    expect(() => b.setWeights(Object.values(store))).toThrow(/has not been built yet/);
    b.build([vb]);
    b.loadOwnVariables(store);
    Object.values(store).forEach((t) => t.dispose());
    expect(b.iterations.value.item()).toBe(1);
    a.apply([tensor([0.5, -0.5, 0.1])], [va]);
    b.apply([tensor([0.5, -0.5, 0.1])], [vb]);
    expectClose(vb.value, va.value, { rtol: 1e-14 });

    b.loadOwnVariables(unbuilt); // count mismatch: skipped with a warning, state unchanged
    expect(b.iterations.value.item()).toBe(2);
    expect(() => b.setWeights([tensor([1])])).toThrow(/expected 5 weights \(one per optimizer variable\), received 1/);
    const bad = b.variables.map((v) => ops.cast(v.value, v.dtype));
    bad[2] = tensor([1, 2]);
    expect(() => b.setWeights(bad)).toThrow(/optimizer variable b\S*_momentum has shape \(3,\), not compatible with provided weight shape \(2,\)/);
  });
});
