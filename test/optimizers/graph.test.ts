/**
 * Optimizers inside keras.trace: the update becomes graph updates of the variables
 * (model weights, slots, iteration) and running the graph with keras.ir.run gives the
 * same values as eager steps.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import * as optimizers from '../../lib/optimizers/index.js';
import type { Optimizer } from '../../lib/optimizers/index.js';
import { expectClose } from '../helpers.js';

const { ops } = keras;

const W0 = [[1.0, -2.0, 0.5], [0.25, 3.0]];
const GRADS = [
  [[0.1, -0.2, 0.3], [0.5, -0.5]],
  [[0.4, 0.1, -0.5], [-1.0, 2.0]],
  [[-0.3, 0.6, 0.0], [0.2, 0.1]],
  [[2.0, -1.0, 0.7], [0.0, -0.3]],
];

function f64(values: number[]): keras.Tensor {
  return ops.convertToTensor(new Float64Array(values));
}

function makeVariables(): keras.Variable[] {
  return W0.map((w, i) => new keras.Variable(f64(w), { name: `w${i}` }));
}

/** Runs the steps eagerly and as one traced graph per step; returns both histories. */
function eagerAndGraph(make: () => Optimizer): { eager: number[][][]; graph: number[][][]; graphOpt: Optimizer } {
  const eagerOpt = make();
  const eagerVars = makeVariables();
  const eager = GRADS.map((gs) => {
    eagerOpt.apply(gs.map(f64), eagerVars);
    return eagerVars.map((v) => Array.from(v.value.dataSync()));
  });

  const graphOpt = make();
  const graphVars = makeVariables();
  const step = keras.trace(
    (...grads: keras.Tensor[]) => {
      graphOpt.apply(grads, graphVars);
      return [];
    },
    W0.map((w) => ({ shape: [w.length], dtype: 'float64' as const })),
  );
  const graph = GRADS.map((gs) => {
    keras.ir.run(step, gs.map(f64));
    return graphVars.map((v) => Array.from(v.value.dataSync()));
  });
  return { eager, graph, graphOpt };
}

function expectSame(a: number[][][], b: number[][][]): void {
  a.forEach((step, i) => step.forEach((vals, j) => expectClose(f64(b[i][j]), vals, { rtol: 1e-12, atol: 1e-14 })));
}

describe('optimizers in a traced graph', () => {
  const cases: [string, () => Optimizer][] = [
    ['SGD', () => new optimizers.SGD(0.1)],
    ['SGD nesterov', () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
    ['Adam amsgrad', () => new optimizers.Adam({ learningRate: 0.01, amsgrad: true })],
    ['AdamW', () => new optimizers.AdamW({ learningRate: 0.01, weightDecay: 0.1 })],
    ['Adamax', () => new optimizers.Adamax(0.01)],
    ['Nadam', () => new optimizers.Nadam(0.01)],
    ['RMSprop centered momentum', () => new optimizers.RMSprop({ learningRate: 0.01, momentum: 0.5, centered: true })],
    ['Adagrad', () => new optimizers.Adagrad(0.1)],
    ['Adadelta', () => new optimizers.Adadelta(1.0)],
    ['Lion', () => new optimizers.Lion(0.01)],
  ];
  for (const [label, make] of cases) {
    it(`${label}: graph steps equal eager steps`, () => {
      const { eager, graph, graphOpt } = eagerAndGraph(make);
      expectSame(eager, graph);
      expect(graphOpt.iterations.value.item()).toBe(GRADS.length);
      // The variables really moved.
      expect(Math.abs(graph[3][0][0] - W0[0][0])).toBeGreaterThan(1e-4);
    });
  }

  it('schedule + clipping + weight decay + gradient accumulation + EMA compile to one graph equal to eager', () => {
    const make = () =>
      new optimizers.Adam({
        learningRate: new optimizers.schedules.CosineDecay(0.0, 10, { warmupTarget: 0.1, warmupSteps: 2 }),
        globalClipnorm: 1.0,
        weightDecay: 0.05,
        gradientAccumulationSteps: 2,
        useEma: true,
        emaMomentum: 0.5,
        emaOverwriteFrequency: 2,
      });
    const { eager, graph } = eagerAndGraph(make);
    expectSame(eager, graph);
    // Accumulation: odd steps leave the weights as they were.
    expect(eager[0]).toEqual(W0);
    expect(eager[2]).toEqual(eager[1]);
  });

  it('the learning rate is a variable read by the graph: changing it changes the next run', () => {
    const opt = new optimizers.SGD(0.5);
    const v = new keras.Variable(f64([0]));
    const step = keras.trace(
      (g: keras.Tensor) => {
        opt.apply([g], [v]);
        return [];
      },
      [{ shape: [1], dtype: 'float64' }],
    );
    expect(step.updates.map((u) => u.variable.name.replace(/_\d+/g, '')).sort()).toEqual(['iteration', 'variable']);
    keras.ir.run(step, [f64([1])]);
    expectClose(v.value, [-0.5]);
    opt.learningRate = 0.25;
    keras.ir.run(step, [f64([1])]);
    expectClose(v.value, [-0.75]);
    expect(opt.iterations.value.item()).toBe(2);
  });
});
