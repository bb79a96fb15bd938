import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { expectClose, randomTensor } from '../helpers.js';

const { ops } = keras;

/** A two-layer MLP with softmax cross-entropy, written in ops. */
function mlpLoss(w1: keras.Tensor, b1: keras.Tensor, w2: keras.Tensor, b2: keras.Tensor, x: keras.Tensor, y: keras.Tensor): keras.Tensor {
  const h = ops.tanh(ops.add(ops.matmul(x, w1), b1));
  const logits = ops.add(ops.matmul(h, w2), b2);
  return ops.mean(ops.sparseCategoricalCrossentropy(y, logits, true));
}

describe('MLP gradients', () => {
  const params = () => [randomTensor([4, 5], 1, -0.8, 0.8), randomTensor([5], 2, -0.1, 0.1), randomTensor([5, 3], 3, -0.8, 0.8), randomTensor([3], 4, -0.1, 0.1)];
  const x = randomTensor([6, 4], 5);
  const y = ops.convertToTensor([0, 2, 1, 1, 0, 2]);

  it('grad of the loss equals central finite differences in float64', () => {
    const p = params();
    const grads = keras.grad((...ps: keras.Tensor[]) => mlpLoss(ps[0], ps[1], ps[2], ps[3], x, y), [0, 1, 2, 3])(...p) as keras.Tensor[];
    const eps = 1e-6;
    p.forEach((param, k) => {
      const base = param.dataSync() as Float64Array;
      const got = grads[k].dataSync();
      for (let i = 0; i < base.length; i++) {
        const at = (d: number) => {
          const v = base.slice();
          v[i] += d;
          const ps = p.map((q, j) => (j === k ? ops.reshape(ops.convertToTensor(v), param.shape) : q));
          return mlpLoss(ps[0], ps[1], ps[2], ps[3], x, y).item();
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        expect(Math.abs(got[i] - numeric), `param ${k} element ${i}: autodiff ${got[i]} vs finite differences ${numeric}`).toBeLessThan(1e-8 + 1e-6 * Math.abs(numeric));
      }
    });
  });

  it('the traced, differentiated graph runs on js with the eager values, for any batch size', () => {
    const p = params();
    const specs = [...p.map((t) => ({ shape: t.shape, dtype: t.dtype })), { shape: [null, 4], dtype: 'float64' as const }, { shape: [null], dtype: 'int32' as const }];
    const graph = keras.trace((w1, b1, w2, b2, xs, ys) => mlpLoss(w1, b1, w2, b2, xs, ys), specs);
    const dgraph = keras.ir.differentiate(graph, { wrt: [0, 1, 2, 3] });
    expect(dgraph.toJSON().nodes.some((n) => n.op === 'matmul' && (n.attrs.transposeA || n.attrs.transposeB))).toBe(true);
    for (const n of [6, 2]) {
      const xs = ops.slice(x, [0, 0], [n, 4]);
      const ys = ops.slice(y, [0], [n]);
      const [loss, ...graphGrads] = keras.config.getBackend('js').compile(dgraph).runSync([...p, xs, ys]);
      const [eagerLoss, eagerGrads] = keras.valueAndGrad((...ps: keras.Tensor[]) => mlpLoss(ps[0], ps[1], ps[2], ps[3], xs, ys), [0, 1, 2, 3])(...p);
      expectClose(loss, eagerLoss, { rtol: 1e-12, atol: 0 });
      graphGrads.forEach((g, k) => expectClose(g, (eagerGrads as keras.Tensor[])[k], { rtol: 1e-12, atol: 1e-15 }));
    }
  });

  it('an SGD train step traced with variable updates matches the eager step', () => {
    const make = () => params().map((t) => new keras.Variable(t));
    const step = (vars: keras.Variable[], xs: keras.Tensor, ys: keras.Tensor) => {
      const tape = new keras.GradientTape();
      const loss = tape.record(() => mlpLoss(vars[0].value, vars[1].value, vars[2].value, vars[3].value, xs, ys));
      const grads = tape.gradient(loss, vars);
      vars.forEach((v, i) => v.assignSub(ops.multiply(grads[i], 0.5)));
      return loss;
    };
    const eagerVars = make();
    const graphVars = make();
    const graph = keras.trace((xs, ys) => step(graphVars, xs, ys), [{ shape: [null, 4], dtype: 'float64' }, { shape: [null], dtype: 'int32' }]);
    expect(graph.updates).toHaveLength(4);
    const exe = keras.config.getBackend('js').compile(graph);
    for (let i = 0; i < 3; i++) {
      const eagerLoss = step(eagerVars, x, y);
      const [graphLoss] = exe.runSync([x, y]);
      expectClose(graphLoss, eagerLoss, { rtol: 1e-12, atol: 0 });
      graphVars.forEach((v, k) => expectClose(v.value, eagerVars[k].value, { rtol: 1e-12, atol: 1e-15 }));
    }
  });
});
