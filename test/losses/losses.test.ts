import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import * as losses from '../../lib/losses/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
import type { Tensor } from '../../lib/index.js';

const { ops } = keras;
const f64 = (x: number[] | number[][] | number[][][]) => ops.convertToTensor(x, 'float64');
const EPS = 1e-7;
const ln = Math.log;
const sigmoidInv = (p: number) => ln(p / (1 - p));

describe('Loss reductions and sample weights', () => {
  // Per-sample MSE of these is [0.5, 0.5].
  const yTrue = [[0, 1], [0, 0]];
  const yPred = [[1, 1], [1, 0]];

  it('defaults to sum_over_batch_size', () => {
    const loss = new losses.MeanSquaredError();
    expect(loss.reduction).toBe('sum_over_batch_size');
    expect(loss.name).toBe('mean_squared_error');
    expectClose(loss.compute(yTrue, yPred), 0.5);
  });

  it('applies each reduction', () => {
    expectClose(new losses.MeanSquaredError('sum').compute(yTrue, yPred), 1.0);
    expectClose(new losses.MeanSquaredError({ reduction: 'mean' }).compute(yTrue, yPred), 0.5);
    expectClose(new losses.MeanSquaredError({ reduction: 'none' }).compute(yTrue, yPred), [0.5, 0.5], { shape: [2] });
    expectClose(new losses.MeanSquaredError({ reduction: null }).compute(yTrue, yPred), [0.5, 0.5]);
  });

  it('weights samples: per-sample, scalar, and mean_with_sample_weight', () => {
    // sum_over_batch_size divides by the number of losses, not by the weights.
    expectClose(new losses.MeanSquaredError().compute(yTrue, yPred, [1, 0]), 0.25);
    expectClose(new losses.MeanSquaredError().compute(yTrue, yPred, 2), 1.0);
    expectClose(new losses.MeanSquaredError('sum').compute(yTrue, yPred, [3, 1]), 2.0);
    expectClose(new losses.MeanSquaredError('mean_with_sample_weight').compute(yTrue, yPred, [1, 0]), 0.5);
    expectClose(new losses.MeanSquaredError('mean_with_sample_weight').compute(yTrue, yPred, [0.5, 0.25]), (0.25 + 0.125) / 0.75);
    // A (batch, 1) weight is squeezed to the (batch,) losses.
    expectClose(new losses.MeanSquaredError('none').compute(yTrue, yPred, [[2], [4]]), [1, 2]);
  });

  it('squeezes or expands a trailing 1 between labels and predictions', () => {
    // (2,) labels against (2, 1) predictions: labels are expanded, one loss per sample.
    expectClose(losses.meanSquaredError([1, 2], [[2], [4]]), [1, 4], { shape: [2] });
    // (2, 1) labels against (2,) predictions: predictions are expanded.
    expectClose(losses.meanSquaredError([[1], [2]], [2, 4]), [1, 4], { shape: [2] });
    // (2, 3, 1) against (2, 3): squeezed to (2, 3), then averaged over the last axis.
    expectClose(losses.meanAbsoluteError([[[1], [2], [3]], [[0], [0], [0]]], [[1, 2, 6], [1, 1, 1]]), [1, 1], { shape: [2] });
    expectClose(new losses.MeanSquaredError().compute([1, 2], [[2], [4]]), 2.5);
  });

  it('reduces a size-0 batch to 0 and passes a scalar loss through', () => {
    expectClose(new losses.MeanSquaredError().compute(ops.zeros([0, 3]), ops.zeros([0, 3])), []);
    const scalar = new (class extends losses.Loss {
      call(t: Tensor, p: Tensor) {
        return ops.sum(ops.abs(ops.subtract(t, p)));
      }
    })();
    expectClose(scalar.compute([1, 2], [2, 4]), 3);
  });

  it('casts to the loss dtype', () => {
    expect(new losses.MeanSquaredError().compute([1], [2]).dtype).toBe('float32');
    expect(new losses.MeanSquaredError({ dtype: 'float64' }).compute([1], [2]).dtype).toBe('float64');
    expect(losses.meanSquaredError(f64([1]), f64([2])).dtype).toBe('float64');
  });
});

describe('regression losses', () => {
  it('meanAbsoluteError', () => {
    expectClose(losses.meanAbsoluteError([[0, 1], [2, 2]], [[1, 1], [0, 5]]), [0.5, 2.5]);
    expectClose(new losses.MeanAbsoluteError().compute([[0, 1], [2, 2]], [[1, 1], [0, 5]]), 1.5);
  });

  it('meanAbsolutePercentageError, with epsilon guarding zero labels', () => {
    expectClose(losses.meanAbsolutePercentageError([[2, 4]], [[1, 5]]), [100 * (0.5 + 0.25) / 2]);
    expectClose(losses.meanAbsolutePercentageError([[0]], [[1e-8]]), [100 * (1e-8 / EPS)], { rtol: 1e-4 });
    expectClose(new losses.MeanAbsolutePercentageError().compute([[2, 4], [1, 1]], [[1, 5], [1, 1]]), 37.5 / 2);
  });

  it('meanSquaredLogarithmicError', () => {
    expectClose(losses.meanSquaredLogarithmicError([[1, 0]], [[3, 0]]), [(ln(4) - ln(2)) ** 2 / 2]);
    // Negative predictions are clamped at epsilon before the log.
    expectClose(losses.meanSquaredLogarithmicError([[1]], [[-5]]), [(ln(1 + EPS) - ln(2)) ** 2]);
  });

  it('huber with the default and a given delta', () => {
    // errors 0.5 (quadratic) and 2 (linear with delta 1)
    expectClose(losses.huber([[0, 0]], [[0.5, 2]]), [(0.125 + 1.5) / 2]);
    expectClose(new losses.Huber(2).compute([[0, 0]], [[0.5, -2]]), (0.125 + 2) / 2);
    expectClose(new losses.Huber({ delta: 0.25 }).compute([[0]], [[1]]), 0.25 - 0.5 * 0.0625);
    expect(new losses.Huber().name).toBe('huber_loss');
  });

  it('logCosh, finite for large errors', () => {
    expectClose(losses.logCosh([[0, 0]], [[1, 0]]), [ln(Math.cosh(1)) / 2]);
    expectClose(losses.logCosh([[0]], [[100]]), [100 - Math.LN2], { rtol: 1e-6 });
    expectClose(new losses.LogCosh().compute([[1, 2]], [[3, 2]]), ln(Math.cosh(2)) / 2);
  });

  it('cosineSimilarity along the last axis and a given axis', () => {
    expectClose(losses.cosineSimilarity([[0, 1], [1, 1]], [[1, 0], [1, 1]]), [0, -1]);
    expectClose(new losses.CosineSimilarity().compute([[0, 1], [1, 1]], [[1, 0], [1, 1]]), -0.5);
    // axis 0: columns [0,1]·[1,1]/(1*sqrt2) and [1,1]·[0,1]/(sqrt2*1)
    expectClose(new losses.CosineSimilarity({ axis: 0, reduction: 'none' }).compute([[0, 1], [1, 1]], [[1, 0], [1, 1]]), [-Math.SQRT1_2, -Math.SQRT1_2]);
    // A zero vector has similarity 0, not NaN.
    expectClose(losses.cosineSimilarity([[0, 0]], [[1, 2]]), [0]);
  });
});

describe('hinge losses', () => {
  it('hinge converts 0/1 labels to -1/1', () => {
    expectClose(losses.hinge([[0, 1]], [[0.3, 0.4]]), [(1.3 + 0.6) / 2]);
    expectClose(losses.hinge([[-1, 1]], [[0.3, 0.4]]), [(1.3 + 0.6) / 2]);
    expectClose(new losses.Hinge().compute([[0, 1], [1, 1]], [[0.3, 0.4], [2, -1]]), ((1.3 + 0.6) / 2 + (0 + 2) / 2) / 2);
  });

  it('squaredHinge', () => {
    expectClose(losses.squaredHinge([[0, 1]], [[0.3, 0.4]]), [(1.69 + 0.36) / 2]);
    expectClose(new losses.SquaredHinge('sum').compute([[0, 1]], [[0.3, 0.4]]), (1.69 + 0.36) / 2);
  });

  it('categoricalHinge', () => {
    expectClose(losses.categoricalHinge([[0, 1, 0], [1, 0, 0]], [[0.3, 0.5, 0.4], [2, 0, 0]]), [0.9, 0]);
    expectClose(new losses.CategoricalHinge().compute([[0, 1, 0], [1, 0, 0]], [[0.3, 0.5, 0.4], [2, 0, 0]]), 0.45);
  });
});

describe('probabilistic losses', () => {
  it('klDivergence, clipping to [eps, 1]', () => {
    expectClose(losses.klDivergence([[0.5, 0.5]], [[0.25, 0.75]]), [0.5 * ln(2) + 0.5 * ln(2 / 3)]);
    expectClose(losses.klDivergence([[1, 0]], [[0.5, 0.5]]), [ln(2) + EPS * ln(EPS / 0.5)], { rtol: 1e-5 });
    expectClose(new losses.KLDivergence().compute([[0.5, 0.5]], [[0.25, 0.75]]), 0.5 * ln(2) + 0.5 * ln(2 / 3));
  });

  it('poisson', () => {
    expectClose(losses.poisson([[1, 2]], [[1, 4]]), [((1 - ln(1 + EPS)) + (4 - 2 * ln(4 + EPS))) / 2]);
    expectClose(new losses.Poisson().compute([[1, 2]], [[1, 4]]), ((1 - ln(1 + EPS)) + (4 - 2 * ln(4 + EPS))) / 2);
  });

  const bceRow = (t: number[], p: number[]) => t.reduce((s, ti, i) => s - (ti * ln(p[i]) + (1 - ti) * ln(1 - p[i])), 0) / t.length;

  it('binaryCrossentropy from probabilities and from logits', () => {
    const want = bceRow([1, 0], [0.8, 0.4]);
    expectClose(losses.binaryCrossentropy([[1, 0]], [[0.8, 0.4]]), [want]);
    expectClose(losses.binaryCrossentropy([[1, 0]], [[sigmoidInv(0.8), sigmoidInv(0.4)]], true), [want]);
    expectClose(new losses.BinaryCrossentropy({ fromLogits: true }).compute([[1, 0]], [[sigmoidInv(0.8), sigmoidInv(0.4)]]), want);
    expectClose(new losses.BinaryCrossentropy().compute([[1, 0], [0, 0]], [[0.8, 0.4], [0.5, 0.5]]), (want + ln(2)) / 2);
  });

  it('binaryCrossentropy clips probabilities at 0 and 1 and stays finite for big logits', () => {
    expectClose(losses.binaryCrossentropy([[1]], [[0]]), [-ln(EPS)], { rtol: 1e-3 });
    expectClose(losses.binaryCrossentropy([[0, 1]], [[100, -100]], { fromLogits: true }), [100]);
  });

  it('binaryCrossentropy label smoothing moves labels towards 0.5', () => {
    // labels [1, 0] with smoothing 0.2 become [0.9, 0.1]
    const want = bceRow([0.9, 0.1], [0.8, 0.4]);
    expectClose(losses.binaryCrossentropy([[1, 0]], [[0.8, 0.4]], false, 0.2), [want]);
    expectClose(new losses.BinaryCrossentropy(true, 0.2).compute([[1, 0]], [[sigmoidInv(0.8), sigmoidInv(0.4)]]), want);
  });

  it('binaryCrossentropy squeezes (batch,) labels against (batch, 1) predictions', () => {
    expectClose(new losses.BinaryCrossentropy({ reduction: 'none' }).compute([1, 0], [[0.8], [0.4]]), [-ln(0.8), -ln(0.6)], { shape: [2] });
  });

  it('binaryCrossentropy averages over a given axis', () => {
    // axis 0 of (2, 2): one value per column
    expectClose(losses.binaryCrossentropy([[1, 0], [0, 1]], [[0.8, 0.4], [0.5, 0.5]], { axis: 0 }), [(-ln(0.8) + ln(2)) / 2, (-ln(0.6) + ln(2)) / 2]);
  });

  it('binaryFocalCrossentropy: focal factor, class balancing, logits, smoothing', () => {
    const t = [1, 0];
    const p = [0.8, 0.4];
    const pt = [0.8, 0.6];
    const bce = [-ln(0.8), -ln(0.6)];
    const focal = (gamma: number, w = [1, 1]) => (w[0] * (1 - pt[0]) ** gamma * bce[0] + w[1] * (1 - pt[1]) ** gamma * bce[1]) / 2;
    expectClose(losses.binaryFocalCrossentropy([t], [p]), [focal(2)]);
    expectClose(losses.binaryFocalCrossentropy([t], [p], { gamma: 1 }), [focal(1)]);
    expectClose(losses.binaryFocalCrossentropy([t], [p], true), [focal(2, [0.25, 0.75])]);
    expectClose(new losses.BinaryFocalCrossentropy({ applyClassBalancing: true, alpha: 0.4 }).compute([t], [p]), focal(2, [0.4, 0.6]));
    expectClose(new losses.BinaryFocalCrossentropy({ fromLogits: true }).compute([t], [[sigmoidInv(0.8), sigmoidInv(0.4)]]), focal(2));
    // smoothing 0.2: labels [0.9, 0.1]
    const ts = [0.9, 0.1];
    const want = ts.reduce((s, ti, i) => {
      const ptS = ti * p[i] + (1 - ti) * (1 - p[i]);
      return s + (1 - ptS) ** 2 * -(ti * ln(p[i]) + (1 - ti) * ln(1 - p[i]));
    }, 0) / 2;
    expectClose(losses.binaryFocalCrossentropy([t], [p], { labelSmoothing: 0.2 }), [want]);
  });

  const yTrueOneHot = [[0, 1, 0], [0, 0, 1]];
  const yPredProbs = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]];

  it('categoricalCrossentropy from probabilities (renormalized) and from logits', () => {
    expectClose(losses.categoricalCrossentropy(yTrueOneHot, yPredProbs), [-ln(0.95), -ln(0.1)]);
    expectClose(new losses.CategoricalCrossentropy().compute(yTrueOneHot, yPredProbs), (-ln(0.95) - ln(0.1)) / 2);
    // Unnormalized probabilities are divided by their sum first.
    expectClose(losses.categoricalCrossentropy([[0, 1]], [[1, 3]]), [-ln(0.75)]);
    const logits = [[1, 2, 3], [0, 0, 0]];
    const lse = ln(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expectClose(losses.categoricalCrossentropy(yTrueOneHot, logits, true), [lse - 2, ln(3)]);
    expectClose(new losses.CategoricalCrossentropy({ fromLogits: true }).compute(yTrueOneHot, logits), (lse - 2 + ln(3)) / 2);
  });

  it('categoricalCrossentropy label smoothing mixes in the uniform distribution', () => {
    // 3 classes, smoothing 0.3: labels become t * 0.7 + 0.1
    const sm = yTrueOneHot.map((r) => r.map((v) => v * 0.7 + 0.1));
    const clipLog = (v: number) => ln(Math.min(Math.max(v, EPS), 1 - EPS));
    const want = sm.map((r, i) => -r.reduce((s, v, j) => s + v * clipLog(yPredProbs[i][j]), 0));
    expectClose(losses.categoricalCrossentropy(yTrueOneHot, yPredProbs, { labelSmoothing: 0.3 }), want, { rtol: 1e-5 });
    expectClose(new losses.CategoricalCrossentropy(false, 0.3).compute(yTrueOneHot, yPredProbs), (want[0] + want[1]) / 2, { rtol: 1e-5 });
  });

  it('categoricalCrossentropy along axis 0', () => {
    expectClose(losses.categoricalCrossentropy([[1, 0], [0, 1]], [[0.25, 0.5], [0.75, 0.5]], { axis: 0 }), [-ln(0.25), -ln(0.5)]);
  });

  it('categoricalFocalCrossentropy: focal factor, logits, smoothing, alpha and gamma', () => {
    const probs = [0.2, 0.5, 0.3];
    const focal = (t: number[], alpha = 0.25, gamma = 2) => t.reduce((s, ti, i) => s + alpha * (1 - probs[i]) ** gamma * -ti * ln(probs[i]), 0);
    expectClose(losses.categoricalFocalCrossentropy([[0, 1, 0]], [probs]), [focal([0, 1, 0])]);
    expectClose(losses.categoricalFocalCrossentropy([[0, 1, 0]], [probs.map(ln)], { fromLogits: true }), [focal([0, 1, 0])]);
    expectClose(losses.categoricalFocalCrossentropy([[0, 1, 0]], [probs], { labelSmoothing: 0.3 }), [focal([0.1, 0.8, 0.1])]);
    expectClose(new losses.CategoricalFocalCrossentropy(0.5, 1).compute([[0, 0, 1]], [probs]), focal([0, 0, 1], 0.5, 1));
    expectClose(losses.get('categorical_focal_crossentropy')!.compute([[0, 1, 0]], [probs]), focal([0, 1, 0]));
  });

  it('sparseCategoricalCrossentropy with (batch,) and (batch, 1) labels, probabilities and logits', () => {
    expectClose(losses.sparseCategoricalCrossentropy([1, 2], yPredProbs), [-ln(0.95), -ln(0.1)]);
    expectClose(new losses.SparseCategoricalCrossentropy().compute([1, 2], yPredProbs), (-ln(0.95) - ln(0.1)) / 2);
    expectClose(new losses.SparseCategoricalCrossentropy().compute([[1], [2]], yPredProbs), (-ln(0.95) - ln(0.1)) / 2);
    const logits = [[1, 2, 3], [0, 0, 0]];
    const lse = ln(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expectClose(new losses.SparseCategoricalCrossentropy(true).compute([0, 2], logits), (lse - 1 + ln(3)) / 2);
    // Sequence labels (batch, time) against (batch, time, classes).
    expectClose(losses.sparseCategoricalCrossentropy([[0, 1]], [[[0.5, 0.5], [0.2, 0.8]]]), [[ln(2), -ln(0.8)]]);
  });

  it('sparseCategoricalCrossentropy ignoreClass zeroes and masks those entries', () => {
    expectClose(losses.sparseCategoricalCrossentropy([1, -1], yPredProbs, { ignoreClass: -1 }), [-ln(0.95), 0]);
    // The mean runs over the one valid entry only.
    expectClose(new losses.SparseCategoricalCrossentropy({ ignoreClass: -1 }).compute([1, -1], yPredProbs), -ln(0.95));
    expectClose(new losses.SparseCategoricalCrossentropy({ ignoreClass: 2, reduction: 'sum' }).compute([1, 2], yPredProbs), -ln(0.95));
    expectClose(new losses.SparseCategoricalCrossentropy({ ignoreClass: 2, reduction: 'none' }).compute([[1], [2]], yPredProbs), [-ln(0.95), 0]);
    // With sample weights the mask multiplies them.
    expectClose(new losses.SparseCategoricalCrossentropy({ ignoreClass: 0 }).compute([1, 0], yPredProbs, [3, 5]), -3 * ln(0.95));
  });
});

describe('masks', () => {
  it('a mask attached to the predictions excludes entries from the mean', () => {
    const p = ops.convertToTensor([[[0.5, 0.5], [0.2, 0.8]]], 'float32');
    losses.setKerasMask(p, ops.convertToTensor([[true, false]]));
    expectClose(new losses.SparseCategoricalCrossentropy().compute([[0, 1]], p), ln(2));
    expectClose(new losses.SparseCategoricalCrossentropy('sum').compute([[0, 1]], p), ln(2));
    // combined with ignoreClass on the other entry, nothing is left: 0, not NaN
    expectClose(new losses.SparseCategoricalCrossentropy({ ignoreClass: 0 }).compute([[0, 1]], p), 0);
  });
});

describe('configuration', () => {
  it('getConfig uses Keras keys and fromConfig-style construction round-trips', () => {
    const bce = new losses.BinaryCrossentropy({ fromLogits: true, labelSmoothing: 0.1 });
    expect(bce.getConfig()).toEqual({ name: 'binary_crossentropy', reduction: 'sum_over_batch_size', from_logits: true, label_smoothing: 0.1, axis: -1 });
    expect(new losses.MeanSquaredError('sum', 'my_mse').getConfig()).toEqual({ name: 'my_mse', reduction: 'sum' });
    const back = losses.deserialize(losses.serialize(bce));
    expect(back).toBeInstanceOf(losses.BinaryCrossentropy);
    expect(back.getConfig()).toEqual(bce.getConfig());
    expect(new losses.SparseCategoricalCrossentropy({ ignoreClass: 3 }).getConfig()).toEqual({ name: 'sparse_categorical_crossentropy', reduction: 'sum_over_batch_size', from_logits: false, ignore_class: 3, axis: -1 });
    expect(new losses.BinaryFocalCrossentropy().getConfig()).toMatchObject({ apply_class_balancing: false, alpha: 0.25, gamma: 2, from_logits: false, label_smoothing: 0 });
  });
});

describe('losses.get', () => {
  const t = [[1, 0]];
  const p = [[0.5, 0.5]];

  it('resolves Keras snake_case names and aliases to Loss objects named by the identifier', () => {
    for (const name of ['mse', 'MSE', 'mean_squared_error', 'meanSquaredError']) {
      const l = losses.get(name)!;
      expect(l).toBeInstanceOf(losses.Loss);
      expect(l.name).toBe(name);
      expectClose(l.compute(t, p), 0.25);
    }
    expectClose(losses.get('mae')!.compute(t, p), 0.5);
    expectClose(losses.get('binary_crossentropy')!.compute(t, p), ln(2));
    expectClose(losses.get('bce')!.compute(t, p), ln(2));
    expectClose(losses.get('categorical_crossentropy')!.compute(t, p), ln(2));
    expectClose(losses.get('sparse_categorical_crossentropy')!.compute([0], p), ln(2));
    expectClose(losses.get('kld')!.compute([[0.5, 0.5]], [[0.25, 0.75]]), 0.5 * ln(2) + 0.5 * ln(2 / 3));
    expectClose(losses.get('huber')!.compute([[0]], [[2]]), 1.5);
    expectClose(losses.get('log_cosh')!.compute([[0]], [[1]]), ln(Math.cosh(1)));
    expectClose(losses.get('mape')!.compute([[2]], [[1]]), 50);
    expectClose(losses.get('msle')!.compute([[1]], [[3]]), (ln(4) - ln(2)) ** 2);
  });

  it('resolves class names, classes, instances and plain functions', () => {
    expect(losses.get('MeanSquaredError')).toBeInstanceOf(losses.MeanSquaredError);
    expect(losses.get('SparseCategoricalCrossentropy')).toBeInstanceOf(losses.SparseCategoricalCrossentropy);
    expect(losses.get(losses.Huber)).toBeInstanceOf(losses.Huber);
    const inst = new losses.Poisson();
    expect(losses.get(inst)).toBe(inst);
    expect(losses.get(null)).toBeNull();
    function myAbsSum(yTrue: Tensor, yPred: Tensor) {
      return ops.sum(ops.abs(ops.subtract(yTrue, yPred)), -1);
    }
    const wrapped = losses.get(myAbsSum)!;
    expect(wrapped.name).toBe('my_abs_sum');
    expectClose(wrapped.compute([[1, 2], [0, 0]], [[0, 0], [1, 1]]), (3 + 2) / 2);
  });

  it("resolves 'crossentropy' from the shapes", () => {
    const ce = losses.get('crossentropy')!;
    expectClose(ce.compute([1, 0], [[0.8], [0.4]]), (-ln(0.8) - ln(0.6)) / 2);
    expectClose(ce.compute([1, 2], yPredProbsForCe), (-ln(0.95) - ln(0.1)) / 2);
    expectClose(ce.compute([[0, 1, 0], [0, 0, 1]], yPredProbsForCe), (-ln(0.95) - ln(0.1)) / 2);
  });

  it('lists the known names for an unknown identifier', () => {
    expect(() => losses.get('mean_sqared_error')).toThrow(/Could not interpret loss identifier: "mean_sqared_error"\. Known names: .*mean_squared_error.*mse/);
    expect(() => losses.get(42 as never)).toThrow(/Could not interpret loss identifier/);
  });
});

const yPredProbsForCe = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]];

describe('custom losses', () => {
  it('subclasses implement call and get reductions and weights', () => {
    class Cubed extends losses.Loss {
      constructor() {
        super({ name: 'cubed' });
      }
      call(yTrue: Tensor, yPred: Tensor): Tensor {
        return ops.mean(ops.power(ops.abs(ops.subtract(yTrue, yPred)), 3), -1);
      }
    }
    const l = new Cubed();
    expect(l.name).toBe('cubed');
    expectClose(l.compute([[0, 0], [0, 0]], [[1, 2], [1, 1]], [1, 2]), ((1 + 8) / 2 + 2 * 1) / 2);
    expect(new (class Unnamed extends Cubed {})().name).toBe('cubed');
    // Keras' positional order (name, reduction, dtype), and an automatic snake_case name.
    class AbsLoss extends losses.Loss {
      call(yTrue: Tensor, yPred: Tensor): Tensor {
        return ops.abs(ops.subtract(yTrue, yPred));
      }
    }
    const pos = new AbsLoss('abs', 'sum', 'float64');
    expect([pos.name, pos.reduction, pos.dtype]).toEqual(['abs', 'sum', 'float64']);
    expectClose(pos.compute([1, 2], [2, 4]), 3);
    expect(new AbsLoss().name).toMatch(/^abs_loss(_\d+)?$/);
  });

  it('LossFunctionWrapper passes options to the function', () => {
    const l = new losses.LossFunctionWrapper(losses.huber as never, { fnOptions: { delta: 2 }, reduction: 'sum' });
    expectClose(l.compute([[0, 0]], [[0.5, -2]]), (0.125 + 2) / 2);
    expect(l.getConfig()).toEqual({ name: 'huber', reduction: 'sum', delta: 2 });
  });
});

describe('errors', () => {
  it('names the loss and both shapes when they do not match', () => {
    expect(() => losses.meanSquaredError(ops.zeros([2, 3]), ops.zeros([2, 4]))).toThrow(/mean_squared_error.*y_true\.shape=\(2, 3\).*y_pred\.shape=\(2, 4\)/);
    expect(() => new losses.MeanAbsoluteError().compute(ops.zeros([2, 3]), ops.zeros([2, 4]))).toThrow(/mean_absolute_error.*\(2, 3\).*\(2, 4\)/);
    expect(() => new losses.BinaryCrossentropy().compute(ops.zeros([2, 3]), ops.zeros([2, 1]))).toThrow(/binary_crossentropy.*same shape.*\(2, 3\).*\(2, 1\)/);
    expect(() => new losses.CategoricalCrossentropy().compute(ops.zeros([2, 3]), ops.zeros([2, 4]))).toThrow(/categorical_crossentropy.*\(2, 3\).*\(2, 4\)/);
    expect(() => new losses.SparseCategoricalCrossentropy().compute([0, 1, 2], ops.zeros([2, 4]))).toThrow(/sparse_categorical_crossentropy.*y_true\.shape=\(3,\).*y_pred\.shape=\(2, 4\)/);
    expect(() => new losses.MeanSquaredError().compute(ops.zeros([2, 3]), ops.zeros([2, 3]), [1, 2, 3])).toThrow(/mean_squared_error.*sample_weight.*\(3,\).*\(2,\)/);
  });

  it('rejects bad arguments', () => {
    expect(() => new losses.MeanSquaredError('average' as never)).toThrow(/Invalid value for argument `reduction`.*average/);
    expect(() => new losses.BinaryCrossentropy({ fromLogit: true } as never)).toThrow(/BinaryCrossentropy: unknown option "fromLogit"; accepted: fromLogits/);
    expect(() => losses.huber([[0]], [[1]], { delt: 1 } as never)).toThrow(/huber: unknown option "delt"/);
  });
});

describe('gradients (float64 finite differences)', () => {
  const yTrue01 = f64([[1, 0, 1], [0, 0, 1]]);
  const probs = randomTensor([2, 3], 3, 0.1, 0.9);
  const logits = randomTensor([2, 3], 4, -2, 2);

  it('regression losses', () => {
    const yt = randomTensor([2, 3], 11);
    checkGrad((t, p) => losses.meanSquaredError(t, p), [yt, randomTensor([2, 3], 12)], { argnums: [1] });
    checkGrad((t, p) => losses.huber(t, p, 0.5), [yt, randomTensor([2, 3], 13, -2, 2)], { argnums: [1] });
    checkGrad((t, p) => losses.logCosh(t, p), [yt, randomTensor([2, 3], 14, -3, 3)], { argnums: [1] });
    checkGrad((t, p) => losses.cosineSimilarity(t, p), [yt, randomTensor([2, 3], 15)], { argnums: [1] });
  });

  it('crossentropies, from probabilities and from logits', () => {
    checkGrad((t, p) => losses.binaryCrossentropy(t, p), [yTrue01, probs], { argnums: [1] });
    checkGrad((t, p) => losses.binaryCrossentropy(t, p, { fromLogits: true, labelSmoothing: 0.1 }), [yTrue01, logits], { argnums: [1] });
    checkGrad((t, p) => losses.binaryFocalCrossentropy(t, p, { applyClassBalancing: true, fromLogits: true }), [yTrue01, logits], { argnums: [1] });
    const oneHot = f64([[0, 1, 0], [0, 0, 1]]);
    checkGrad((t, p) => losses.categoricalCrossentropy(t, p, { fromLogits: true, labelSmoothing: 0.2 }), [oneHot, logits], { argnums: [1] });
    checkGrad((t, p) => losses.categoricalCrossentropy(t, p), [oneHot, probs], { argnums: [1] });
    checkGrad((p) => losses.sparseCategoricalCrossentropy([1, 2], p, { fromLogits: true, ignoreClass: 2 }), [logits]);
    checkGrad((t, p) => losses.categoricalFocalCrossentropy(t, p, { fromLogits: true, labelSmoothing: 0.1 }), [oneHot, logits], { argnums: [1] });
  });

  it('a reduced class loss with sample weights', () => {
    const loss = new losses.CategoricalCrossentropy({ fromLogits: true, dtype: 'float64' });
    checkGrad((p) => loss.compute(f64([[0, 1, 0], [1, 0, 0]]), p, f64([0.3, 2])), [logits]);
  });
});

describe('tracing', () => {
  it('a loss with sample weights traces with an unknown batch and evaluates like eager', () => {
    const loss = new losses.SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: 0 });
    const g = keras.trace((y, p, w) => loss.compute(y, p, w), [{ shape: [null], dtype: 'int32' }, { shape: [null, 3] }, { shape: [null] }]);
    const y = ops.convertToTensor([1, 0, 2]);
    const p = ops.convertToTensor([[1, 2, 3], [0, 0, 0], [3, 2, 1]], 'float32');
    const w = ops.convertToTensor([1, 1, 0.5], 'float32');
    const [out] = keras.ir.run(g, [y, p, w]);
    expectClose(out, loss.compute(y, p, w).arraySync() as number, { rtol: 1e-6 });
    const lse = ln(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expectClose(out, ((lse - 2) + 0.5 * (lse - 1)) / 2, { rtol: 1e-6 });
  });

  it('the traced loss differentiates into a graph whose gradient matches eager (unknown batch)', () => {
    const loss = new losses.CategoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.1, dtype: 'float64' });
    const g = keras.trace((y, p, w) => loss.compute(y, p, w), [{ shape: [null, 3], dtype: 'float64' }, { shape: [null, 3], dtype: 'float64' }, { shape: [null], dtype: 'float64' }]);
    const dg = keras.ir.differentiate(g, { wrt: [1] });
    const y = f64([[0, 1, 0], [1, 0, 0]]);
    const p = randomTensor([2, 3], 21, -2, 2);
    const w = f64([0.5, 2]);
    const [value, dp] = keras.ir.run(dg, [y, p, w]);
    expectClose(value, loss.compute(y, p, w), { rtol: 1e-12 });
    const eager = keras.grad((q: Tensor) => loss.compute(y, q, w))(p) as Tensor;
    expectClose(dp, eager, { rtol: 1e-12, atol: 1e-14 });
  });

  it('mean reduction over an unknown batch divides by the run-time size', () => {
    const g = keras.trace((t, p) => new losses.MeanAbsoluteError().compute(t, p), [{ shape: [null, 2] }, { shape: [null, 2] }]);
    const [out] = keras.ir.run(g, [ops.convertToTensor([[0, 0], [0, 0], [0, 0]], 'float32'), ops.convertToTensor([[1, 1], [2, 2], [3, 3]], 'float32')]);
    expectClose(out, 2);
  });
});

describe('memory', () => {
  it('compute under tidy leaves no tensors behind', () => {
    const t = ops.convertToTensor([1, 2], 'int32');
    const p = ops.convertToTensor([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]], 'float32');
    const loss = new losses.SparseCategoricalCrossentropy({ ignoreClass: 1 });
    keras.tidy(() => loss.compute(t, p, [1, 2]));
    const before = keras.memory().numTensors;
    keras.tidy(() => {
      loss.compute(t, p, [1, 2]);
    });
    expect(keras.memory().numTensors).toBe(before);
  });
});
