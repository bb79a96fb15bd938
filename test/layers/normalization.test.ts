import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { maskOf, type CallOptions, type Layer } from '../../lib/layers/layer.js';
import { layerFromConfig } from '../../lib/layers/registry.js';
import { checkWeightGrads, roundTrip } from './helpers.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops, layers } = keras;

const t = (v: Parameters<typeof ops.convertToTensor>[0]) => ops.convertToTensor(v);
const f64 = (v: Parameters<typeof ops.convertToTensor>[0]) => ops.convertToTensor(v, 'float64');
const vals = (x: Tensor) => Array.from(x.dataSync());

/** Column-wise (last axis) mean and biased variance of a 2-D array. */
function colMoments(x: number[][]): { mean: number[]; variance: number[] } {
  const n = x.length;
  const mean = x[0].map((_, j) => x.reduce((s, r) => s + r[j], 0) / n);
  const variance = x[0].map((_, j) => x.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n);
  return { mean, variance };
}

describe('BatchNormalization', () => {
  const X = [[1, 2], [3, 6], [5, 4]];
  // Column moments: mean (3, 4), biased variance (8/3, 8/3).
  const EPS = 1e-3;

  it('creates gamma, beta (trainable) and moving mean / variance (non-trainable), in Keras order', () => {
    const bn = new layers.BatchNormalization();
    bn.apply(ops.zeros([1, 2]));
    expect(bn.weights.map((w) => w.name.split('/').pop())).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
    expect(bn.trainableWeights).toEqual([bn.gamma, bn.beta]);
    expect(bn.nonTrainableWeights).toEqual([bn.movingMean, bn.movingVariance]);
    expect(vals(bn.movingVariance.value)).toEqual([1, 1]);
    const bare = new layers.BatchNormalization({ center: false, scale: false });
    bare.apply(ops.zeros([1, 2]));
    expect(bare.weights.length).toBe(2);
    expect(bare.trainableWeights.length).toBe(0);
  });

  it('inference uses the moving statistics: (x - mm) / sqrt(mv + eps) * gamma + beta', () => {
    const bn = new layers.BatchNormalization();
    bn.apply(ops.zeros([1, 2]));
    const gamma = [2, 0.5];
    const beta = [1, -1];
    const mm = [1, 3];
    const mv = [4, 0.25];
    bn.setWeights([gamma, beta, mm, mv]);
    const ref = X.map((r) => r.map((v, j) => ((v - mm[j]) / Math.sqrt(mv[j] + EPS)) * gamma[j] + beta[j]));
    expectClose(bn.apply(t(X)) as Tensor, ref);
    expectClose(bn.apply(t(X), { training: false }) as Tensor, ref);
    // Nothing moved.
    expectClose(bn.movingMean.value, mm);
    expectClose(bn.movingVariance.value, mv);
  });

  it('training normalizes with the batch moments and updates the moving stats by momentum', () => {
    const bn = new layers.BatchNormalization({ momentum: 0.9 });
    bn.apply(ops.zeros([1, 2]));
    bn.setWeights([[2, 1], [0.5, 0], [0, 0], [1, 1]]);
    const y = bn.apply(t(X), { training: true }) as Tensor;
    const { mean, variance } = colMoments(X);
    expect(mean).toEqual([3, 4]);
    expect(variance[0]).toBeCloseTo(8 / 3, 12);
    const g = [2, 1];
    const bta = [0.5, 0];
    expectClose(y, X.map((r) => r.map((v, j) => ((v - mean[j]) / Math.sqrt(variance[j] + EPS)) * g[j] + bta[j])));
    // moving = moving * 0.9 + batch * 0.1, with the biased (population) variance, as Keras 3.
    expectClose(bn.movingMean.value, [0.3, 0.4]);
    expectClose(bn.movingVariance.value, [0.9 + 0.8 / 3, 0.9 + 0.8 / 3]);
    // A second step moves them again from there.
    bn.apply(t(X), { training: true });
    expectClose(bn.movingMean.value, [0.3 * 0.9 + 0.3, 0.4 * 0.9 + 0.4]);
    // Inference now uses the moved statistics.
    const mm = vals(bn.movingMean.value);
    const mv = vals(bn.movingVariance.value);
    expectClose(bn.apply(t(X)) as Tensor, X.map((r) => r.map((v, j) => ((v - mm[j]) / Math.sqrt(mv[j] + EPS)) * g[j] + bta[j])));
  });

  it('trainable = false runs in inference mode even with training = true, and leaves the moving stats alone', () => {
    const bn = new layers.BatchNormalization();
    bn.apply(ops.zeros([1, 2]));
    bn.setWeights([[1, 1], [0, 0], [1, 2], [4, 9]]);
    bn.trainable = false;
    const y = bn.apply(t(X), { training: true }) as Tensor;
    expectClose(y, X.map((r) => r.map((v, j) => (v - [1, 2][j]) / Math.sqrt([4, 9][j] + EPS))));
    expectClose(bn.movingMean.value, [1, 2]);
    expectClose(bn.movingVariance.value, [4, 9]);
    expect(bn.trainableWeights.length).toBe(0);
    // Frozen inside a model too: the flag reaches nested layers.
    const model = new keras.Sequential([new layers.BatchNormalization({ inputShape: [2] })]);
    model.apply(t(X));
    model.trainable = false;
    model.apply(t(X), { training: true });
    expectClose((model.layers[0] as InstanceType<typeof layers.BatchNormalization>).movingMean.value, [0, 0]);
  });

  it('size-1 batch in training gives beta; a size-0 batch keeps its shape at inference', () => {
    const bn = new layers.BatchNormalization();
    bn.apply(ops.zeros([1, 2]));
    bn.setWeights([[3, 3], [0.5, -0.5], [0, 0], [1, 1]]);
    expectClose(bn.apply(t([[7, -9]]), { training: true }) as Tensor, [[0.5, -0.5]]);
    expect((bn.apply(ops.zeros([0, 2])) as Tensor).shape).toEqual([0, 2]);
  });

  it('channels-first (axis 1) and NHWC inputs reduce over every other axis', () => {
    // (2, 2, 1, 2) with axis 1: channel c's values are x[:, c, :, :].
    const x = ops.reshape(t([1, 2, 10, 20, 3, 4, 30, 40]), [2, 2, 1, 2]);
    const bn = new layers.BatchNormalization(1, { momentum: 0.5, center: false, scale: false });
    const y = bn.apply(x, { training: true }) as Tensor;
    const c0 = [1, 2, 3, 4];
    const c1 = [10, 20, 30, 40];
    const mom = (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return [m, v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length];
    };
    const [m0, v0] = mom(c0);
    const [m1, v1] = mom(c1);
    const n = (v: number, m: number, s: number) => (v - m) / Math.sqrt(s + EPS);
    expectClose(y, [n(1, m0, v0), n(2, m0, v0), n(10, m1, v1), n(20, m1, v1), n(3, m0, v0), n(4, m0, v0), n(30, m1, v1), n(40, m1, v1)], { rtol: 1e-5 });
    expectClose(bn.movingMean.value, [m0 / 2, m1 / 2], { rtol: 1e-6 });
    expectClose(bn.movingVariance.value, [0.5 + v0 / 2, 0.5 + v1 / 2], { rtol: 1e-6 });
    // NHWC with the default axis: moments over batch, height and width.
    const img = randomTensor([2, 3, 2, 2], 5);
    const b2 = new layers.BatchNormalization({ dtype: 'float64', center: false, scale: false });
    const out = b2.apply(img, { training: true }) as Tensor;
    const per = vals(out);
    for (let c = 0; c < 2; c++) {
      const ch = per.filter((_, i) => i % 2 === c);
      expect(ch.reduce((a, b) => a + b, 0) / ch.length).toBeCloseTo(0, 12);
    }
  });

  it('a mask leaves masked steps out of the batch moments (Keras)', () => {
    const x = t([[[1, 10], [3, 30], [100, 100]], [[5, 50], [-7, -7], [7, 70]]]);
    const mask = ops.convertToTensor([[true, true, false], [true, false, true]]);
    const bn = new layers.BatchNormalization({ momentum: 0, center: false, scale: false });
    const y = bn.apply(x, { training: true, mask }) as Tensor;
    // Unmasked rows: (1, 10), (3, 30), (5, 50), (7, 70) -> mean (4, 40), variance (5, 500).
    expectClose(bn.movingMean.value, [4, 40], { rtol: 1e-5 });
    expectClose(bn.movingVariance.value, [5, 500], { rtol: 1e-5 });
    expectClose(ops.slice(y, [0, 0, 0], [1, 1, 2]), [(1 - 4) / Math.sqrt(5 + EPS), (10 - 40) / Math.sqrt(500 + EPS)], { rtol: 1e-5 });
    expect(maskOf(y)).toBe(mask);
    expect(() => bn.apply(x, { training: true, mask: ops.convertToTensor([true, false]) })).toThrow(/BatchNormalization "batch_normalization[_0-9]*": the mask provided should be one dimension less than the inputs. Received: mask.shape=\(2,\), inputs.shape=\(2, 3, 2\)/);
  });

  it('float64 gradients in training mode (through the batch moments) and in inference mode', () => {
    const x = randomTensor([4, 3], 21);
    const bn = new layers.BatchNormalization({ dtype: 'float64' });
    bn.apply(x);
    bn.setWeights([f64([1.5, 0.5, 2]), f64([0.1, 0.2, 0.3]), f64([0.1, -0.2, 0.3]), f64([0.5, 1.5, 2])]);
    checkGrad((v) => bn.apply(v, { training: true }) as Tensor, [x]);
    checkWeightGrads(bn, x, { training: true });
    checkGrad((v) => bn.apply(v, { training: false }) as Tensor, [x]);
    checkWeightGrads(bn, x, { training: false });
    // Rank 3 with a mask.
    const x3 = randomTensor([2, 3, 2], 22);
    const mask = ops.convertToTensor([[true, false, true], [true, true, false]]);
    const bm = new layers.BatchNormalization({ dtype: 'float64' });
    checkGrad((v) => bm.apply(v, { training: true, mask }) as Tensor, [x3]);
  });

  it('traced: a training call records the two moving-stat updates; symbolic calls outside a trace only infer shapes', () => {
    const bn = new layers.BatchNormalization({ momentum: 0.5 });
    bn.apply(ops.zeros([1, 2]));
    const graph = keras.trace((x) => bn.apply(x, { training: true }) as Tensor, [{ shape: [null, 2], dtype: 'float32' }]);
    expect(graph.updates.map((u) => u.variable)).toEqual([bn.movingMean, bn.movingVariance]);
    expectClose(bn.movingMean.value, [0, 0]);
    const [y] = keras.ir.run(graph, [ops.convertToTensor(X, "float32")]);
    const { mean, variance } = colMoments(X);
    expectClose(y, X.map((r) => r.map((v, j) => (v - mean[j]) / Math.sqrt(variance[j] + EPS))));
    expectClose(bn.movingMean.value, [1.5, 2]);
    expectClose(bn.movingVariance.value, [0.5 + 4 / 3, 0.5 + 4 / 3]);
    // Building a functional graph in training mode: shapes only, no update.
    const sym = bn.apply(keras.Input({ shape: [2] }), { training: true }) as Tensor;
    expect(sym.shape).toEqual([null, 2]);
    expectClose(bn.movingMean.value, [1.5, 2]);
  });

  it('updates the moving statistics inside a compiled fit, and predict uses them', async () => {
    keras.utils.setRandomSeed(3);
    const bn = new layers.BatchNormalization({ momentum: 0.5, center: false, scale: false, inputShape: [2] });
    const model = new keras.Sequential([bn]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = t([[1, 2], [3, 6], [5, 4], [7, 8]]);
    await model.fit(x, ops.zeros([4, 2]), { batchSize: 4, epochs: 2, verbose: 0, shuffle: false });
    // Two steps on the same batch: mean (4, 5) -> moving 4 * 0.75; variance (5, 5) -> 0.25 + 5 * 0.75.
    expectClose(bn.movingMean.value, [3, 3.75], { rtol: 1e-5 });
    expectClose(bn.movingVariance.value, [0.25 + 3.75, 0.25 + 3.75], { rtol: 1e-5 });
    const p = (await model.predict(x, { verbose: 0 })) as Tensor;
    expectClose(p, [[1, 2], [3, 6], [5, 4], [7, 8]].map((r) => r.map((v, j) => (v - [3, 3.75][j]) / Math.sqrt(4 + EPS))), { rtol: 1e-5 });
  });

  it('config round trip and errors', () => {
    const bn = new layers.BatchNormalization({ axis: 1, momentum: 0.9, epsilon: 1e-5, center: false, gammaInitializer: 'glorot_uniform', betaRegularizer: 'l2', name: 'bn_rt' });
    const c = roundTrip(bn);
    expect([c.axis, c.momentum, c.epsilon, c.center, c.scale]).toEqual([1, 0.9, 1e-5, false, true]);
    expect(() => new layers.BatchNormalization(3, { name: 'bn_axis' }).apply(ops.zeros([2, 3]))).toThrow(/Input 0 of layer "bn_axis" is incompatible with the layer: axis 3 is out of bounds for ndim=2, received shape \(2, 3\)/);
    expect(() => new layers.BatchNormalization({ name: 'bn_unknown' }).apply(keras.Input({ shape: [null] }))).toThrow(/Input 0 of layer "bn_unknown" is incompatible with the layer: axis -1 of the input must have a defined dimension, received shape \(None, None\)/);
    const b = new layers.BatchNormalization({ name: 'bn_late' });
    b.apply(ops.zeros([2, 3]));
    expect(() => b.apply(ops.zeros([2, 4]))).toThrow(/Input 0 of layer "bn_late" is incompatible with the layer: expected ndim=2 with axis -1 of value 3, received shape \(2, 4\)/);
    expect(() => new layers.BatchNormalization(0.5)).toThrow(/BatchNormalization: axis must be an integer, received 0.5/);
    expect(() => new layers.BatchNormalization({ synchronized: true })).toThrow(/synchronized=true is only supported with the TensorFlow backend/);
  });
});

describe('LayerNormalization', () => {
  const EPS = 1e-3;
  const norm = (r: number[]) => {
    const m = r.reduce((a, b) => a + b, 0) / r.length;
    const v = r.reduce((a, b) => a + (b - m) ** 2, 0) / r.length;
    return r.map((x) => (x - m) / Math.sqrt(v + EPS));
  };

  it('normalizes each sample over the last axis, then gamma and beta', () => {
    const X = [[1, 2, 3, 6], [-1, 0, 1, 0]];
    const ln = new layers.LayerNormalization();
    expectClose(ln.apply(t(X)) as Tensor, X.map(norm));
    expect(ln.weights.map((w) => [w.name.split('/').pop(), w.shape])).toEqual([['gamma', [4]], ['beta', [4]]]);
    const g = [1, 2, 3, 4];
    const b = [0.5, 0, -0.5, 1];
    ln.setWeights([g, b]);
    expectClose(ln.apply(t(X)) as Tensor, X.map((r) => norm(r).map((v, j) => v * g[j] + b[j])));
    // Training makes no difference; masks pass through.
    expectClose(ln.apply(t(X), { training: true }) as Tensor, X.map((r) => norm(r).map((v, j) => v * g[j] + b[j])));
    const mask = ops.convertToTensor([true, false]);
    expect(maskOf(ln.apply(t(X), { mask }) as Tensor)).toBe(mask);
  });

  it('several axes (gamma shaped like them) and a non-last axis', () => {
    const x = ops.reshape(t([1, 2, 3, 4, 5, 9, 0, 0, 1, 1, 2, 2]), [2, 3, 2]);
    const ln = new layers.LayerNormalization([1, 2]);
    ln.apply(x);
    expect(ln.gamma!.shape).toEqual([3, 2]);
    const g = [[1, 2], [3, 4], [5, 6]];
    ln.setWeights([g, ops.zeros([3, 2])]);
    const rows = [[1, 2, 3, 4, 5, 9], [0, 0, 1, 1, 2, 2]];
    expectClose(ln.apply(x) as Tensor, rows.map((r) => norm(r).map((v, i) => v * g.flat()[i])));
    // axis 1 of (2, 3, 2): normalize over the 3 entries for each (sample, last index).
    const l1 = new layers.LayerNormalization({ axis: 1, center: false });
    l1.apply(x);
    expect(l1.weights.map((w) => w.shape)).toEqual([[3]]);
    l1.setWeights([[1, 10, 100]]);
    const xs = x.arraySync() as number[][][];
    const ref = xs.map((s) => {
      const cols = [0, 1].map((j) => norm(s.map((r) => r[j])));
      return s.map((r, i) => r.map((_, j) => cols[j][i] * [1, 10, 100][i]));
    });
    expectClose(l1.apply(x) as Tensor, ref, { rtol: 1e-5 });
    // Reversed axis order: gamma is laid out as [axis 2, axis 1].
    const rev = new layers.LayerNormalization({ axis: [2, 1], center: false });
    rev.apply(x);
    expect(rev.gamma!.shape).toEqual([2, 3]);
    rev.setWeights([[[1, 3, 5], [2, 4, 6]]]);
    expectClose(rev.apply(x) as Tensor, rows.map((r) => norm(r).map((v, i) => v * g.flat()[i])));
  });

  it('a size-1 normalized axis gives beta', () => {
    const ln = new layers.LayerNormalization();
    ln.apply(ops.zeros([2, 1]));
    ln.setWeights([[2], [0.25]]);
    expectClose(ln.apply(t([[5], [-3]])) as Tensor, [[0.25], [0.25]]);
  });

  it('rmsScaling (deprecated in Keras): gamma / sqrt(variance + eps), no centering, no beta', () => {
    const ln = new layers.LayerNormalization({ rmsScaling: true });
    const X = [[1, 2, 3, 6]];
    ln.apply(t(X));
    expect(ln.weights.map((w) => w.name.split('/').pop())).toEqual(['gamma']);
    ln.setWeights([[1, 1, 2, 2]]);
    const v = 3.5;
    expectClose(ln.apply(t(X)) as Tensor, [X[0].map((x, j) => (x / Math.sqrt(v + EPS)) * [1, 1, 2, 2][j])]);
  });

  it('float64 gradients with respect to inputs and weights', () => {
    const x = randomTensor([3, 4], 31);
    const ln = new layers.LayerNormalization({ dtype: 'float64' });
    ln.apply(x);
    ln.setWeights([f64([1, 2, 0.5, -1]), f64([0.1, 0, -0.1, 0.2])]);
    checkGrad((v) => ln.apply(v) as Tensor, [x]);
    checkWeightGrads(ln, x);
    const multi = new layers.LayerNormalization({ axis: [1, 2], dtype: 'float64', epsilon: 1e-5 });
    const x3 = randomTensor([2, 2, 3], 32);
    multi.apply(x3);
    checkGrad((v) => multi.apply(v) as Tensor, [x3]);
    checkWeightGrads(multi, x3);
  });

  it('config round trip and errors', () => {
    const c = roundTrip(new layers.LayerNormalization({ axis: [1, 2], epsilon: 1e-6, scale: false, name: 'ln_rt' }));
    expect([c.axis, c.epsilon, c.scale, c.rmsScaling]).toEqual([[1, 2], 1e-6, false, false]);
    expect(roundTrip(new layers.LayerNormalization({ name: 'ln_rt2' })).axis).toBe(-1);
    expect(() => new layers.LayerNormalization({ axis: 'x' as never })).toThrow(/LayerNormalization: expected an int or a list of ints for the argument axis, but received: "x"/);
    expect(() => new layers.LayerNormalization(2, { name: 'ln_axis' }).apply(ops.zeros([2, 3]))).toThrow(/Input 0 of layer "ln_axis" is incompatible with the layer: axis 2 is out of bounds for ndim=2, received shape \(2, 3\)/);
    const ln = new layers.LayerNormalization({ name: 'ln_late' });
    ln.apply(ops.zeros([2, 3]));
    expect(() => ln.apply(ops.zeros([2, 5]))).toThrow(/Input 0 of layer "ln_late" is incompatible with the layer: expected the axes -1 to have sizes \[3\], received shape \(2, 5\)/);
    expect(() => new layers.LayerNormalization({ name: 'ln_unknown' }).apply(keras.Input({ shape: [null] }))).toThrow(/Input 0 of layer "ln_unknown" is incompatible/);
  });
});
