/**
 * keras.optimizers.schedules: each schedule's values at several steps against the Keras
 * formulas written in plain JS numbers (schedules compute in float32), configs, errors.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import * as optimizers from '../../lib/optimizers/index.js';
import type { TensorLike } from '../../lib/ops/index.js';
import { expectClose } from '../helpers.js';

const { ops } = keras;
const { schedules } = optimizers;

/** Evaluates `schedule` at int32 steps and compares with `formula`. */
function expectSchedule(schedule: optimizers.schedules.LearningRateSchedule, steps: number[], formula: (step: number) => number, rtol = 2e-6): void {
  for (const s of steps) {
    const out = schedule.call(ops.convertToTensor(s, 'int32'));
    expect(out.dtype).toBe('float32');
    expect(out.shape).toEqual([]);
    expectClose(out, [formula(s)], { rtol, atol: 1e-8 });
  }
}

describe('ExponentialDecay', () => {
  it('initial * rate^(step / decaySteps), floored exponent with staircase', () => {
    expectSchedule(new schedules.ExponentialDecay(0.1, 10, 0.5), [0, 1, 5, 10, 15, 37], (s) => 0.1 * 0.5 ** (s / 10));
    expectSchedule(new schedules.ExponentialDecay(0.1, 10, 0.5, true), [0, 9, 10, 15, 20, 37], (s) => 0.1 * 0.5 ** Math.floor(s / 10));
    expectSchedule(new schedules.ExponentialDecay(0.1, 10, 0.5, { staircase: true }), [19], () => 0.05);
  });
});

describe('PiecewiseConstantDecay', () => {
  it('values[0] up to and including boundaries[0], then each interval, then the last value', () => {
    const s = new schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]);
    const want = (x: number) => (x <= 10 ? 1.0 : x <= 20 ? 0.5 : 0.1);
    expectSchedule(s, [0, 9, 10, 11, 19, 20, 21, 100], want);
    expectClose(s.call(ops.convertToTensor(10.5, 'float32')), [0.5]);
    const single = new schedules.PiecewiseConstantDecay([5], [0.3, 0.2]);
    expectSchedule(single, [5, 6], (x) => (x <= 5 ? 0.3 : 0.2));
  });

  it('rejects mismatched lengths and unsorted boundaries', () => {
    expect(() => new schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5])).toThrow(/length of boundaries should be 1 less than the length of values/);
    expect(() => new schedules.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1])).toThrow(/strictly increasing/);
  });
});

describe('PolynomialDecay', () => {
  it('(initial - end)(1 - min(step, decaySteps)/decaySteps)^power + end', () => {
    const f = (s: number) => (0.1 - 0.01) * (1 - Math.min(s, 10) / 10) ** 2 + 0.01;
    expectSchedule(new schedules.PolynomialDecay(0.1, 10, 0.01, 2), [0, 1, 5, 10, 15], f);
    // Default end 1e-4 and power 1.
    expectSchedule(new schedules.PolynomialDecay(0.1, 10), [0, 4, 20], (s) => (0.1 - 0.0001) * (1 - Math.min(s, 10) / 10) + 0.0001);
  });

  it('with cycle, decaySteps becomes the first multiple >= step (1 at step 0)', () => {
    const f = (s: number) => {
      const mult = s === 0 ? 1 : Math.ceil(s / 10);
      return (0.1 - 0.01) * (1 - s / (10 * mult)) ** 2 + 0.01;
    };
    expectSchedule(new schedules.PolynomialDecay(0.1, 10, { endLearningRate: 0.01, power: 2, cycle: true }), [0, 5, 10, 11, 15, 25], f);
  });
});

describe('InverseTimeDecay', () => {
  it('initial / (1 + rate * step / decaySteps), floored with staircase', () => {
    expectSchedule(new schedules.InverseTimeDecay(0.1, 5, 0.5), [0, 1, 5, 12], (s) => 0.1 / (1 + (0.5 * s) / 5));
    expectSchedule(new schedules.InverseTimeDecay(0.1, 5, 0.5, true), [0, 4, 5, 12], (s) => 0.1 / (1 + 0.5 * Math.floor(s / 5)));
  });
});

describe('CosineDecay', () => {
  it('initial * ((1 - alpha) * 0.5 (1 + cos(pi min(step, decaySteps) / decaySteps)) + alpha)', () => {
    const f = (s: number) => 0.1 * ((1 - 0.1) * 0.5 * (1 + Math.cos((Math.PI * Math.min(s, 10)) / 10)) + 0.1);
    expectSchedule(new schedules.CosineDecay(0.1, 10, 0.1), [0, 1, 5, 9, 10, 30], f);
    expectSchedule(new schedules.CosineDecay(0.1, 10), [5, 10], (s) => 0.1 * 0.5 * (1 + Math.cos((Math.PI * s) / 10)), 1e-5);
  });

  it('linear warmup from initial to warmupTarget, then cosine decay from the target', () => {
    const s = new schedules.CosineDecay(0.0, 10, { warmupTarget: 0.1, warmupSteps: 5, alpha: 0.0 });
    const f = (x: number) => {
      const c = Math.min(x, 15);
      if (c < 5) return 0.1 * (c / 5);
      return 0.1 * 0.5 * (1 + Math.cos((Math.PI * (c - 5)) / 10));
    };
    expectSchedule(s, [0, 1, 4, 5, 7, 10, 14], f);
    expectSchedule(s, [15, 40], () => 0, 1e-5);
    const fromNonZero = new schedules.CosineDecay(0.02, 10, 0.0, 'CosineDecay', 0.1, 4);
    expectSchedule(fromNonZero, [2], () => 0.02 + (0.1 - 0.02) * 0.5);
  });
});

describe('CosineDecayRestarts', () => {
  /** The SGDR formula in plain numbers. */
  function sgdr(initial: number, first: number, tMul: number, mMul: number, alpha: number, step: number): number {
    let c = step / first;
    let i: number;
    if (tMul === 1) {
      i = Math.floor(c);
      c -= i;
    } else {
      i = Math.floor(Math.log(1 - c * (1 - tMul)) / Math.log(tMul));
      const sumR = (1 - tMul ** i) / (1 - tMul);
      c = (c - sumR) / tMul ** i;
    }
    const cosine = 0.5 * mMul ** i * (1 + Math.cos(Math.PI * c));
    return initial * ((1 - alpha) * cosine + alpha);
  }

  it('geometrically growing periods (tMul 2) with peaks scaled by mMul', () => {
    const s = new schedules.CosineDecayRestarts(0.1, 10, 2.0, 0.5, 0.0);
    // Restarts at 10 and 30; steps away from the boundaries.
    expectSchedule(s, [0, 3, 9, 12, 25, 41], (x) => sgdr(0.1, 10, 2.0, 0.5, 0.0, x), 1e-5);
  });

  it('equal periods (tMul 1) with alpha', () => {
    const s = new schedules.CosineDecayRestarts(0.1, 10, { tMul: 1.0, alpha: 0.2 });
    expectSchedule(s, [0, 5, 12, 27], (x) => sgdr(0.1, 10, 1.0, 1.0, 0.2, x), 1e-5);
  });
});

describe('schedule API', () => {
  it('positional, options and config forms build the same schedule; getConfig round-trips', () => {
    const a = new schedules.CosineDecay(0.1, 100, 0.05, 'cd', 0.2, 10);
    const b = new schedules.CosineDecay(0.1, 100, { alpha: 0.05, name: 'cd', warmupTarget: 0.2, warmupSteps: 10 });
    const c = new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 100, alpha: 0.05, name: 'cd', warmupTarget: 0.2, warmupSteps: 10 });
    expect(b.getConfig()).toEqual(a.getConfig());
    expect(c.getConfig()).toEqual(a.getConfig());
    expect(a.getConfig()).toEqual({ initialLearningRate: 0.1, decaySteps: 100, alpha: 0.05, name: 'cd', warmupTarget: 0.2, warmupSteps: 10 });
    const all: optimizers.schedules.LearningRateSchedule[] = [
      a,
      new schedules.ExponentialDecay(0.1, 10, 0.9, true),
      new schedules.PiecewiseConstantDecay([1, 2], [3, 2, 1]),
      new schedules.PolynomialDecay(0.1, 10, 0.001, 0.5, true),
      new schedules.InverseTimeDecay(0.1, 10, 0.5),
      new schedules.CosineDecayRestarts(0.1, 10, 1.5, 0.9, 0.01),
    ];
    for (const s of all) {
      const back = schedules.deserialize(schedules.serialize(s) as unknown as Record<string, unknown>);
      expect(back.constructor).toBe(s.constructor);
      expect(back.getConfig()).toEqual(s.getConfig());
    }
    // Keras' snake_case config.
    const k = schedules.deserialize({ class_name: 'CosineDecayRestarts', config: { initial_learning_rate: 0.1, first_decay_steps: 10, t_mul: 1.5, m_mul: 0.9, alpha: 0.0, name: 'SGDRDecay' } });
    expect(k.getConfig()).toMatchObject({ tMul: 1.5, mMul: 0.9, firstDecaySteps: 10 });
  });

  it('a user subclass works as an optimizer learning rate and deserializes via customObjects', () => {
    class Halving extends schedules.LearningRateSchedule {
      constructor(readonly initial: number) {
        super();
      }
      call(step: TensorLike): keras.Tensor {
        return ops.divide(this.initial, ops.power(2.0, ops.cast(step, 'float32')));
      }
      override getConfig() {
        return { initial: this.initial };
      }
      static override fromConfig(config: Record<string, unknown>): Halving {
        return new Halving(config.initial as number);
      }
    }
    const opt = new optimizers.SGD({ learningRate: new Halving(1.0) });
    const v = new keras.Variable(ops.convertToTensor(new Float64Array([0])));
    for (let i = 0; i < 3; i++) opt.apply([ops.convertToTensor(new Float64Array([1]))], [v]);
    expectClose(v.value, [-(1 + 0.5 + 0.25)]);
    expect(opt.learningRate).toBe(0.125);
    const config = opt.getConfig();
    expect(config.learningRate).toEqual({ module: 'custom', className: 'Halving', config: { initial: 1.0 }, registeredName: 'Halving' });
    const back = schedules.deserialize(config.learningRate as Record<string, unknown>, { Halving });
    expect(back).toBeInstanceOf(Halving);
    expect(() => schedules.deserialize(config.learningRate as Record<string, unknown>)).toThrow(/unknown learning rate schedule 'Halving'.*customObjects/);
  });

  it('a subclass without getConfig is not serializable', () => {
    class Bare extends schedules.LearningRateSchedule {
      call(): keras.Tensor {
        return ops.convertToTensor(0.1, 'float32');
      }
    }
    expect(() => new Bare().getConfig()).toThrow(/Learning rate schedule 'Bare' must override getConfig\(\)/);
  });

  it('bad arguments raise clear errors', () => {
    expect(() => new schedules.ExponentialDecay(0.1, 0, 0.5)).toThrow(/ExponentialDecay: argument decaySteps must be > 0, received decaySteps=0/);
    expect(() => new schedules.CosineDecayRestarts(0.1, -1)).toThrow(/firstDecaySteps must be > 0/);
    expect(() => new schedules.PolynomialDecay({ initialLearningRate: 0.1 } as never)).toThrow(/PolynomialDecay: missing required argument decaySteps/);
    expect(() => new schedules.InverseTimeDecay(0.1, 10, 0.5, { stairs: true } as never)).toThrow(/InverseTimeDecay: argument\(s\) not recognized: stairs/);
    expect(() => new schedules.ExponentialDecay('0.1' as never, 10, 0.5)).toThrow(/initialLearningRate must be a finite number/);
    expect(() => schedules.deserialize({ className: 'StepDecay', config: {} })).toThrow(/unknown learning rate schedule 'StepDecay'\. Known: ExponentialDecay, .*CosineDecayRestarts/);
  });
});
