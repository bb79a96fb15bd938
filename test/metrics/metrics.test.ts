import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import * as metrics from '../../lib/metrics/index.js';
import * as losses from '../../lib/losses/index.js';
import { expectClose } from '../helpers.js';
import type { Tensor } from '../../lib/index.js';

const { ops } = keras;
const ln = Math.log;

describe('Metric state', () => {
  it('keeps state in non-trainable variables and resets it', () => {
    const m = new metrics.Mean();
    expect(m.name).toBe('mean');
    expect(m.variables).toHaveLength(2);
    expect(m.variables.every((v) => !v.trainable && v.dtype === 'float32')).toBe(true);
    m.updateState([1, 3, 5, 7]);
    expectClose(m.result(), 4);
    m.updateState([2]);
    expectClose(m.result(), 18 / 5);
    m.resetState();
    expectClose(m.result(), 0);
    expectClose(m.variables[1].value, 0);
  });

  it('compute updates then returns the result', () => {
    const m = new metrics.Sum();
    expectClose(m.compute([1, 2]), 3);
    expectClose(m.compute([4]), 7);
  });

  it('updates record as graph variable updates inside a trace', () => {
    const m = new metrics.SparseCategoricalAccuracy();
    const g = keras.trace((y, p) => {
      m.updateState(y, p);
      return m.result();
    }, [{ shape: [null], dtype: 'int32' }, { shape: [null, 3] }]);
    expect(g.updates).toHaveLength(2);
    const y = ops.convertToTensor([0, 2]);
    const p = ops.convertToTensor([[0.9, 0.05, 0.05], [0.5, 0.4, 0.1]], 'float32');
    const [r1] = keras.ir.run(g, [y, p]);
    expectClose(r1, 0.5);
    const [r2] = keras.ir.run(g, [ops.convertToTensor([1, 1, 1]), ops.convertToTensor([[0, 1, 0], [0, 1, 0], [1, 0, 0]], 'float32')]);
    expectClose(r2, 3 / 5);
    expectClose(m.result(), 3 / 5);
    m.resetState();
    expectClose(m.result(), 0);
  });

  it('a float64 metric keeps float64 state', () => {
    const m = new metrics.Mean({ dtype: 'float64' });
    m.updateState([0.1, 0.2]);
    expect(m.result().dtype).toBe('float64');
    expectClose(m.result(), 0.15, { rtol: 1e-15 });
  });
});

describe('Mean and Sum', () => {
  it('Mean with sample weights over two updates', () => {
    const m = new metrics.Mean();
    m.updateState([1, 3, 5, 7], [1, 1, 0, 0]);
    expectClose(m.result(), 2);
    m.updateState([10], [2]);
    expectClose(m.result(), (4 + 20) / 4);
  });

  it('Mean reduces per-sample rows first and counts samples, not elements', () => {
    const m = new metrics.Mean();
    m.updateState([[1, 3], [5, 7]]);
    expectClose(m.result(), 4);
    expectClose(m.variables[1].value, 2);
    // As in Keras, values are reduced down to the weight's rank: a scalar weight weighs the whole batch.
    const w = new metrics.Mean();
    w.updateState([[1, 3], [5, 7]], 2);
    expectClose(w.result(), 4);
    expectClose(w.count.value, 2);
    w.updateState([[1, 1]], [[0.5]]);
    expectClose(w.result(), (8 + 0.5) / 2.5);
  });

  it('Sum with sample weights over two updates', () => {
    const m = new metrics.Sum();
    m.updateState([1, 3, 5, 7], [1, 1, 0, 0]);
    expectClose(m.result(), 4);
    m.updateState([[1, 2], [3, 4]]);
    expectClose(m.result(), 14);
    m.resetState();
    expectClose(m.result(), 0);
  });

  it('MeanMetricWrapper averages a custom function', () => {
    function absDiff(yTrue: Tensor | number[], yPred: Tensor | number[]) {
      return ops.abs(ops.subtract(yTrue, yPred));
    }
    const m = new metrics.MeanMetricWrapper(absDiff as never);
    expect(m.name).toBe('abs_diff');
    m.updateState([1, 2], [2, 4]);
    m.updateState([0], [6], [0.5]);
    expectClose(m.result(), (1 + 2 + 3) / 2.5);
  });
});

describe('accuracy metrics', () => {
  it('Accuracy', () => {
    const m = new metrics.Accuracy();
    m.updateState([[1], [2], [3], [4]], [[0], [2], [3], [4]]);
    expectClose(m.result(), 0.75);
    m.updateState([[1]], [[1]]);
    expectClose(m.result(), 0.8);
    m.resetState();
    m.updateState([[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0]);
    expectClose(m.result(), 0.5);
  });

  it('BinaryAccuracy with the default and a custom threshold', () => {
    const m = new metrics.BinaryAccuracy();
    m.updateState([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]);
    expectClose(m.result(), 0.75);
    m.updateState([[1], [0]], [[0.4], [0.5]]);
    // 0.4 is below 0.5 (wrong); 0.5 is not above 0.5 (right)
    expectClose(m.result(), 4 / 6);
    m.resetState();
    m.updateState([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], [1, 0, 0, 1]);
    expectClose(m.result(), 0.5);
    const t = new metrics.BinaryAccuracy({ threshold: 0.7 });
    t.updateState([1, 1, 0, 0], [0.98, 0.65, 0, 0.6]);
    expectClose(t.result(), 0.75);
    expect(t.getConfig()).toEqual({ name: 'binary_accuracy', dtype: 'float32', threshold: 0.7 });
  });

  it('CategoricalAccuracy', () => {
    const m = new metrics.CategoricalAccuracy();
    m.updateState([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]);
    expectClose(m.result(), 0.5);
    m.updateState([[1, 0, 0]], [[0.5, 0.2, 0.3]]);
    expectClose(m.result(), 2 / 3);
    m.resetState();
    m.updateState([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3]);
    expectClose(m.result(), 0.3);
  });

  it('SparseCategoricalAccuracy with (batch,) and (batch, 1) labels', () => {
    const m = new metrics.SparseCategoricalAccuracy();
    m.updateState([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]);
    expectClose(m.result(), 0.5);
    m.updateState([0, 0], [[0.9, 0.1, 0], [0.2, 0.3, 0.5]]);
    expectClose(m.result(), 0.5);
    m.resetState();
    m.updateState([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], [0.7, 0.3]);
    expectClose(m.result(), 0.3);
    // float labels (as a loss casts them) work too
    const f = new metrics.SparseCategoricalAccuracy();
    f.updateState(ops.convertToTensor([2, 1], 'float32'), [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]);
    expectClose(f.result(), 0.5);
  });

  it('TopKCategoricalAccuracy', () => {
    const m = new metrics.TopKCategoricalAccuracy(1);
    m.updateState([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]);
    expectClose(m.result(), 0.5);
    m.resetState();
    m.updateState([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3]);
    expectClose(m.result(), 0.3);
    const k2 = new metrics.TopKCategoricalAccuracy({ k: 2 });
    k2.updateState([[0, 0, 1], [0, 0, 1]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]);
    expectClose(k2.result(), 0.5);
    k2.updateState([[1, 0, 0]], [[0.3, 0.3, 0.4]]);
    // 0.3 ties class 1 and is outranked only by 0.4: in the top 2
    expectClose(k2.result(), 2 / 3);
    expect(new metrics.TopKCategoricalAccuracy().k).toBe(5);
  });

  it('SparseTopKCategoricalAccuracy', () => {
    const m = new metrics.SparseTopKCategoricalAccuracy({ k: 1 });
    m.updateState([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]);
    expectClose(m.result(), 0.5);
    m.updateState([[0]], [[0.9, 0.05, 0.05]]);
    expectClose(m.result(), 2 / 3);
    m.resetState();
    m.updateState([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3]);
    expectClose(m.result(), 0.3);
    // k larger than the number of classes: always in
    const big = new metrics.SparseTopKCategoricalAccuracy();
    big.updateState([0, 2], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]);
    expectClose(big.result(), 1);
  });

  it('bool and int labels, and an empty batch', () => {
    const b = new metrics.BinaryAccuracy();
    b.updateState([true, false, true], [0.9, 0.2, 0.1]);
    expectClose(b.result(), 2 / 3);
    // An empty (0, 1) batch adds nothing. (As in Keras, rank-1 inputs are averaged over their
    // last axis into one value, so an empty rank-1 batch would add a NaN.)
    b.updateState(ops.zeros([0, 1]), ops.zeros([0, 1]));
    expectClose(b.result(), 2 / 3);
    const m = new metrics.Mean();
    m.updateState(ops.zeros([0]));
    expectClose(m.result(), 0);
    const a = new metrics.Accuracy();
    a.updateState(ops.convertToTensor([1, 2, 3], 'int32'), ops.convertToTensor([1, 2, 0], 'int32'));
    expectClose(a.result(), 2 / 3);
  });

  it('inTopK handles ties, NaN and out-of-range targets', () => {
    expectClose(metrics.inTopK([0, 1, 2, 5], [[1, 1, 0], [0, NaN, 1], [0, 0, 1], [1, 2, 3]], 1), [1, 0, 1, 0]);
  });
});

describe('regression metrics', () => {
  const yTrue = [[0, 1], [0, 0]];
  const yPred = [[1, 1], [1, 0]];

  it('MeanSquaredError and MeanAbsoluteError over two updates', () => {
    const mse = new metrics.MeanSquaredError();
    mse.updateState(yTrue, yPred);
    expectClose(mse.result(), 0.5);
    mse.updateState([[0, 0]], [[2, 2]], [2]);
    expectClose(mse.result(), (0.5 + 0.5 + 2 * 4) / 4);
    const mae = new metrics.MeanAbsoluteError();
    mae.updateState([[0, 0], [1, 1]], [[1, 3], [1, 1]]);
    expectClose(mae.result(), 1);
    mae.updateState([[4, 4]], [[0, 0]]);
    expectClose(mae.result(), (2 + 0 + 4) / 3);
    mae.resetState();
    mae.updateState([[0, 0], [1, 1]], [[1, 3], [1, 1]], [0, 1]);
    expectClose(mae.result(), 0);
  });

  it('RootMeanSquaredError over two updates with weights', () => {
    const m = new metrics.RootMeanSquaredError();
    m.updateState([2, 4, 6], [1, 3, 2]);
    // squared errors 1, 1, 16
    expectClose(m.result(), Math.sqrt(18 / 3));
    m.updateState([0], [3], [2]);
    expectClose(m.result(), Math.sqrt((18 + 18) / 5));
    m.resetState();
    m.updateState([2, 4, 6], [1, 3, 2], [1, 0, 0]);
    expectClose(m.result(), 1);
  });

  it('probabilistic and hinge metrics average the loss functions', () => {
    const bce = new metrics.BinaryCrossentropy();
    bce.updateState([[1, 0]], [[0.8, 0.4]]);
    expectClose(bce.result(), (-ln(0.8) - ln(0.6)) / 2);
    const scce = new metrics.SparseCategoricalCrossentropy({ fromLogits: true });
    scce.updateState([0, 1], [[0, 0], [0, 0]]);
    expectClose(scce.result(), ln(2));
    const h = new metrics.Hinge();
    h.updateState([[0, 1]], [[0.3, 0.4]]);
    expectClose(h.result(), 0.95);
    const cs = new metrics.CosineSimilarity();
    cs.updateState([[0, 1], [1, 1]], [[1, 0], [1, 1]]);
    expectClose(cs.result(), 0.5);
  });
});

describe('confusion metrics', () => {
  it('Precision over two updates, with weights', () => {
    const m = new metrics.Precision();
    expect(m.name).toMatch(/^precision(_\d+)?$/);
    m.updateState([0, 1, 1, 1], [1, 0, 1, 1]);
    expectClose(m.result(), 2 / 3);
    m.updateState([1], [0.9]);
    expectClose(m.result(), 3 / 4);
    m.resetState();
    m.updateState([0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0]);
    expectClose(m.result(), 1);
  });

  it('Precision with topK and classId', () => {
    const top2 = new metrics.Precision({ topK: 2 });
    top2.updateState([0, 0, 1, 1], [1, 1, 1, 1]);
    expectClose(top2.result(), 0);
    const top4 = new metrics.Precision({ topK: 4 });
    top4.updateState([0, 0, 1, 1], [1, 1, 1, 1]);
    expectClose(top4.result(), 0.5);
    const c1 = new metrics.Precision({ classId: 1 });
    c1.updateState([[0, 1], [1, 0], [0, 1]], [[0.3, 0.7], [0.4, 0.6], [0.8, 0.2]]);
    expectClose(c1.result(), 0.5);
  });

  it('Precision and Recall with several thresholds return one value each', () => {
    const p = new metrics.Precision([0.3, 0.7]);
    p.updateState([1, 0, 1, 0], [0.5, 0.5, 0.8, 0.1]);
    expectClose(p.result(), [2 / 3, 1]);
    const r = new metrics.Recall({ thresholds: [0.3, 0.7] });
    r.updateState([1, 0, 1, 0], [0.5, 0.5, 0.8, 0.1]);
    expectClose(r.result(), [1, 0.5]);
  });

  it('Recall over two updates, with weights', () => {
    const m = new metrics.Recall();
    m.updateState([0, 1, 1, 1], [1, 0, 1, 1]);
    expectClose(m.result(), 2 / 3);
    m.updateState([[1], [0]], [[0.2], [0.9]]);
    expectClose(m.result(), 2 / 4);
    m.resetState();
    m.updateState([0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0]);
    expectClose(m.result(), 1);
    expectClose(new metrics.Recall().result(), 0);
  });

  it('TruePositives, FalsePositives, TrueNegatives, FalseNegatives', () => {
    const cases: [metrics.Metric, number, number][] = [
      [new metrics.TruePositives(), 2, 1],
      [new metrics.FalsePositives(), 1, 0],
      [new metrics.TrueNegatives(), 0, 0],
      [new metrics.FalseNegatives(), 1, 0],
    ];
    for (const [m, plain, weighted] of cases) {
      m.updateState([0, 1, 1, 1], [1, 0, 1, 1]);
      expectClose(m.result(), plain);
      m.resetState();
      m.updateState([0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0]);
      expectClose(m.result(), weighted);
    }
  });

  it('rejects thresholds outside [0, 1]', () => {
    expect(() => new metrics.Precision(1.5)).toThrow(/Precision: threshold values must be in \[0, 1\]\. Received: \[1\.5\]/);
  });
});

describe('AUC', () => {
  // Keras' documented case: thresholds [0 - 1e-7, 0.5, 1 + 1e-7]
  // tp = [2, 1, 0], fp = [2, 0, 0], fn = [0, 1, 2], tn = [0, 2, 2]
  const y = [0, 0, 1, 1];
  const p = [0, 0.5, 0.3, 0.9];

  it('ROC with trapezoids on 3 thresholds, by hand', () => {
    const m = new metrics.AUC({ numThresholds: 3 });
    expect(m.thresholds).toEqual([-1e-7, 0.5, 1 + 1e-7]);
    m.updateState(y, p);
    expectClose(m.truePositives.value, [2, 1, 0]);
    expectClose(m.falsePositives.value, [2, 0, 0]);
    expectClose(m.falseNegatives.value, [0, 1, 2]);
    expectClose(m.trueNegatives.value, [0, 2, 2]);
    // recall [1, 0.5, 0], fpr [1, 0, 0]: (1 - 0) * (1 + 0.5) / 2 + 0
    expectClose(m.result(), 0.75);
    m.resetState();
    m.updateState(y, p, [1, 0, 0, 1]);
    expectClose(m.result(), 1);
  });

  it('accumulates over two updates', () => {
    const m = new metrics.AUC({ numThresholds: 3 });
    m.updateState([0, 0], [0, 0.5]);
    m.updateState([[1], [1]], [[0.3], [0.9]]);
    expectClose(m.result(), 0.75);
  });

  it('minoring and majoring summation', () => {
    const lo = new metrics.AUC({ numThresholds: 3, summationMethod: 'minoring' });
    lo.updateState(y, p);
    expectClose(lo.result(), 0.5);
    const hi = new metrics.AUC({ numThresholds: 3, summationMethod: 'majoring' });
    hi.updateState(y, p);
    expectClose(hi.result(), 1);
  });

  it('PR curve: interpolation (Davis & Goadrich), minoring, majoring', () => {
    const pr = new metrics.AUC({ numThresholds: 3, curve: 'PR' });
    pr.updateState(y, p);
    // slopes [1/3, 1], intercepts [2/3, 0], p ratios [4, 1], divided by tp + fn = 2
    expectClose(pr.result(), (1 / 3) * (1 + (2 / 3) * ln(4)) / 2 + 0.5);
    // recall [1, 0.5, 0], precision [0.5, 1, 0]
    const lo = new metrics.AUC({ numThresholds: 3, curve: 'PR', summationMethod: 'minoring' });
    lo.updateState(y, p);
    expectClose(lo.result(), 0.25);
    const hi = new metrics.AUC({ numThresholds: 3, curve: 'pr', summationMethod: 'majoring' });
    hi.updateState(y, p);
    expectClose(hi.result(), 1);
  });

  it('the default 200 thresholds give the exact ROC AUC for well separated scores', () => {
    const m = new metrics.AUC();
    expect(m.numThresholds).toBe(200);
    m.updateState([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expectClose(m.result(), 0.75);
    m.updateState([1, 0], [0.95, 0.02]);
    // 3 positives x 3 negatives; only (0.35, 0.4) is misordered
    expectClose(m.result(), 8 / 9, { rtol: 1e-6 });
  });

  it('fromLogits applies a sigmoid first', () => {
    const m = new metrics.AUC({ numThresholds: 3, fromLogits: true });
    m.updateState(y, [-20, 0, -1, 3]);
    expectClose(m.result(), 0.75);
  });

  it('multiLabel averages per-label AUCs; labelWeights weight them', () => {
    const yt = [[0, 0], [0, 1], [1, 0], [1, 1]];
    const yp = [[0, 0.2], [0.5, 0.9], [0.3, 0.1], [0.9, 0.7]];
    const m = new metrics.AUC({ numThresholds: 3, multiLabel: true });
    m.updateState(yt, yp);
    expect(m.truePositives.shape).toEqual([3, 2]);
    expectClose(m.result(), (0.75 + 1) / 2);
    const w = new metrics.AUC({ numThresholds: 3, multiLabel: true, numLabels: 2, labelWeights: [3, 1] });
    w.updateState(yt, yp);
    expectClose(w.result(), (3 * 0.75 + 1) / 4);
  });

  it('explicit thresholds and config', () => {
    const m = new metrics.AUC({ thresholds: [0.5] });
    expect(m.numThresholds).toBe(3);
    m.updateState(y, p);
    expectClose(m.result(), 0.75);
    expect(m.getConfig()).toMatchObject({ num_thresholds: 3, curve: 'ROC', summation_method: 'interpolation', multi_label: false, thresholds: [0.5], from_logits: false });
  });

  it('rejects bad arguments', () => {
    expect(() => new metrics.AUC({ curve: 'XY' as never })).toThrow(/AUC: invalid curve value "XY"/);
    expect(() => new metrics.AUC(1)).toThrow(/AUC: argument `numThresholds` must be an integer > 1\. Received: numThresholds=1/);
    expect(() => new metrics.AUC({ numThresholds: 3 }).updateState([0, 1, 1], [0.5, 0.5])).toThrow(/auc.*y_true\.shape=\(3,\).*y_pred\.shape=\(2,\)/);
  });
});

describe('F-scores', () => {
  const yTrue = [[1, 1, 1], [1, 0, 0], [1, 1, 0]];
  const yPred = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]];
  // With threshold 0.5: per class (tp, fp, fn) = (1, 0, 2), (2, 1, 0), (1, 1, 0)

  it('F1Score per class, and its averages', () => {
    const m = new metrics.F1Score({ threshold: 0.5 });
    m.updateState(yTrue, yPred);
    expectClose(m.result(), [0.5, 0.8, 2 / 3], { rtol: 1e-5 });
    const macro = new metrics.F1Score('macro', 0.5);
    macro.updateState(yTrue, yPred);
    expectClose(macro.result(), (0.5 + 0.8 + 2 / 3) / 3, { rtol: 1e-5 });
    const weighted = new metrics.F1Score({ average: 'weighted', threshold: 0.5 });
    weighted.updateState(yTrue, yPred);
    expectClose(weighted.result(), (3 * 0.5 + 2 * 0.8 + 1 * (2 / 3)) / 6, { rtol: 1e-5 });
    const micro = new metrics.F1Score({ average: 'micro', threshold: 0.5 });
    micro.updateState(yTrue, yPred);
    // tp 4, fp 2, fn 2
    expectClose(micro.result(), 2 / 3, { rtol: 1e-5 });
  });

  it('FBetaScore with beta 2', () => {
    const m = new metrics.FBetaScore({ beta: 2, threshold: 0.5 });
    m.updateState(yTrue, yPred);
    const fb = (p: number, r: number) => (5 * p * r) / (4 * p + r);
    expectClose(m.result(), [fb(1, 1 / 3), fb(2 / 3, 1), fb(0.5, 1)], { rtol: 1e-5 });
  });

  it('threshold null takes the row argmax (ties included), over two updates with weights', () => {
    const m = new metrics.F1Score();
    m.updateState(yTrue, yPred);
    // predictions [[0,0,1],[0,1,1],[0,1,0]]: class tp/fp/fn = (0,0,3), (1,1,1), (1,1,0)
    expectClose(m.result(), [0, 0.5, 2 / 3], { rtol: 1e-5 });
    m.updateState([[1, 0, 0]], [[0.9, 0.1, 0]], [2]);
    // class 0 now tp 2, fn 3 -> P 1, R 0.4
    expectClose(m.result(), [(2 * 0.4) / 1.4, 0.5, 2 / 3], { rtol: 1e-5 });
    m.resetState();
    expectClose(m.result(), [0, 0, 0]);
  });

  it('rejects non-2D inputs and bad arguments', () => {
    expect(() => new metrics.F1Score().updateState([1, 0], [0.5, 0.5])).toThrow(/f1_score: expects 2D inputs.*y_pred\.shape=\(2,\).*y_true\.shape=\(2,\)/);
    expect(() => new metrics.F1Score({ average: 'mean' as never })).toThrow(/invalid `average`/);
    expect(() => new metrics.FBetaScore({ beta: 0 })).toThrow(/beta/);
  });
});

describe('metrics.get', () => {
  it("resolves 'accuracy' by the loss", () => {
    const sparse = metrics.get('accuracy', { loss: 'sparse_categorical_crossentropy' })!;
    expect(sparse).toBeInstanceOf(metrics.SparseCategoricalAccuracy);
    expect(sparse.name).toBe('accuracy');
    expect(metrics.get('acc', { loss: new losses.BinaryCrossentropy({ fromLogits: true }) })).toBeInstanceOf(metrics.BinaryAccuracy);
    expect(metrics.get('acc', { loss: 'binary_crossentropy' })!.name).toBe('acc');
    expect(metrics.get('accuracy', { loss: losses.get('categorical_crossentropy') })).toBeInstanceOf(metrics.CategoricalAccuracy);
    expect(metrics.get('accuracy', { loss: losses.get('SparseCategoricalCrossentropy') })).toBeInstanceOf(metrics.SparseCategoricalAccuracy);
    expect(metrics.get('accuracy', { loss: losses.categoricalCrossentropy as never })).toBeInstanceOf(metrics.CategoricalAccuracy);
    class MyBce extends losses.BinaryCrossentropy {}
    expect(metrics.get('accuracy', { loss: new MyBce() })).toBeInstanceOf(metrics.BinaryAccuracy);
    expect(metrics.get('accuracy', { loss: 'bce' })).toBeInstanceOf(metrics.BinaryAccuracy);
  });

  it("resolves 'accuracy' by the shapes of the first update otherwise", () => {
    const sparse = metrics.get('accuracy', { loss: 'mse' }) as metrics.AutoAccuracy;
    expect(sparse.resolvedAs).toBeNull();
    sparse.updateState([2, 1], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]);
    expect(sparse.resolvedAs).toBe('sparse_categorical_accuracy');
    expectClose(sparse.result(), 0.5);
    const binary = metrics.get('accuracy') as metrics.AutoAccuracy;
    binary.updateState([[1], [0]], [[0.7], [0.6]]);
    expect(binary.resolvedAs).toBe('binary_accuracy');
    expectClose(binary.result(), 0.5);
    const cat = metrics.get('accuracy') as metrics.AutoAccuracy;
    cat.updateState([[0, 1], [1, 0]], [[0.3, 0.7], [0.2, 0.8]]);
    expect(cat.resolvedAs).toBe('categorical_accuracy');
    expectClose(cat.result(), 0.5);
  });

  it('resolves names to metrics named by the identifier', () => {
    const mse = metrics.get('mse')!;
    expect(mse.name).toBe('mse');
    mse.updateState([[0, 1]], [[1, 1]]);
    expectClose(mse.result(), 0.5);
    const mae = metrics.get('mae')!;
    mae.updateState([[0, 1]], [[1, 3]]);
    expectClose(mae.result(), 1.5);
    const rmse = metrics.get('rmse')!;
    expect(rmse).toBeInstanceOf(metrics.RootMeanSquaredError);
    rmse.updateState([0, 0], [3, 4]);
    expectClose(rmse.result(), Math.sqrt(12.5));
    expect(metrics.get('auc')).toBeInstanceOf(metrics.AUC);
    expect(metrics.get('AUC')).toBeInstanceOf(metrics.AUC);
    expect(metrics.get('precision')).toBeInstanceOf(metrics.Precision);
    expect(metrics.get('recall')).toBeInstanceOf(metrics.Recall);
    expect(metrics.get('f1_score')).toBeInstanceOf(metrics.F1Score);
    expect(metrics.get('root_mean_squared_error')).toBeInstanceOf(metrics.RootMeanSquaredError);
    expect(metrics.get('SparseTopKCategoricalAccuracy')).toBeInstanceOf(metrics.SparseTopKCategoricalAccuracy);
    const sca = metrics.get('sparse_categorical_accuracy')!;
    sca.updateState([1], [[0.2, 0.8]]);
    expectClose(sca.result(), 1);
  });

  it('passes metrics through, instantiates classes, wraps functions', () => {
    const m = new metrics.Recall();
    expect(metrics.get(m)).toBe(m);
    expect(metrics.get(metrics.Precision)).toBeInstanceOf(metrics.Precision);
    expect(metrics.get(null)).toBeNull();
    function matches(yTrue: Tensor, yPred: Tensor) {
      return ops.cast(ops.equal(yTrue, yPred), 'float32');
    }
    const w = metrics.get(matches as never)!;
    expect(w).toBeInstanceOf(metrics.MeanMetricWrapper);
    expect(w.name).toBe('matches');
    w.updateState([1, 2, 3], [1, 0, 3]);
    expectClose(w.result(), 2 / 3);
  });

  it('lists the known names for an unknown identifier', () => {
    expect(() => metrics.get('acuracy')).toThrow(/Could not interpret metric identifier: "acuracy"\. Known names: accuracy, acc, .*mse.*rmse.*auc/);
  });
});

describe('errors', () => {
  it('names the metric when y_pred is missing or shapes do not match', () => {
    expect(() => new metrics.Accuracy().updateState([1, 2])).toThrow(/accuracy\.updateState: expected \(yTrue, yPred, sampleWeight\?\), y_pred is missing/);
    expect(() => new metrics.MeanSquaredError().updateState(ops.zeros([2, 3]), ops.zeros([2, 4]))).toThrow(/mean_squared_error.*\(2, 3\).*\(2, 4\)/);
    expect(() => new metrics.RootMeanSquaredError().updateState(ops.zeros([2, 3]), ops.zeros([2, 4]))).toThrow(/root_mean_squared_error.*\(2, 3\).*\(2, 4\)/);
    expect(() => new metrics.BinaryAccuracy({ threshold: 1 })).toThrow(/BinaryAccuracy: invalid value for argument `threshold`.*Received: threshold=1/);
  });
});

describe('masks', () => {
  it('a mask attached to the predictions excludes entries', () => {
    const p = ops.convertToTensor([[[0.9, 0.1], [0.9, 0.1]]], 'float32');
    losses.setKerasMask(p, ops.convertToTensor([[true, false]]));
    const m = new metrics.SparseCategoricalAccuracy();
    m.updateState([[0, 1]], p);
    expectClose(m.result(), 1);
    const scce = new metrics.SparseCategoricalCrossentropy();
    scce.updateState([[0, 1]], p);
    expectClose(scce.result(), -ln(0.9));
  });
});

describe('configuration', () => {
  it('serialize / deserialize round-trips built-in metrics', () => {
    const ms = [
      new metrics.AUC({ numThresholds: 7, curve: 'PR', summationMethod: 'minoring', multiLabel: true, numLabels: 2, fromLogits: true }),
      new metrics.AUC({ thresholds: [0.2, 0.6] }),
      new metrics.Precision({ thresholds: [0.3, 0.6], classId: 1 }),
      new metrics.Recall({ topK: 2 }),
      new metrics.F1Score({ average: 'macro', threshold: 0.4 }),
      new metrics.FBetaScore({ beta: 2 }),
      new metrics.BinaryAccuracy({ threshold: 0.3 }),
      new metrics.SparseTopKCategoricalAccuracy(3),
      new metrics.MeanSquaredError('m'),
      new metrics.BinaryCrossentropy({ fromLogits: true, labelSmoothing: 0.1 }),
    ];
    for (const m of ms) {
      const back = metrics.deserialize(metrics.serialize(m));
      expect(back.constructor).toBe(m.constructor);
      expect(back.getConfig()).toEqual(m.getConfig());
    }
    expect(new metrics.F1Score().getConfig()).toEqual({ name: 'f1_score', dtype: 'float32', average: null, threshold: null });
    expect(new metrics.Precision({ name: 'p' }).getConfig()).toEqual({ name: 'p', dtype: 'float32', thresholds: null, top_k: null, class_id: null });
    expect(() => metrics.deserialize({ class_name: 'Nope' })).toThrow(/unknown metric class "Nope"/);
  });
});

describe('traced updates with an unknown batch match eager updates', () => {
  const make = () => [
    new metrics.AUC({ numThresholds: 11 }),
    new metrics.AUC({ numThresholds: 5, multiLabel: true, numLabels: 3, curve: 'PR' }),
    new metrics.Precision({ topK: 1 }),
    new metrics.Recall({ thresholds: [0.2, 0.5] }),
    new metrics.F1Score({ average: 'weighted', threshold: 0.5 }),
    new metrics.RootMeanSquaredError(),
    new metrics.TopKCategoricalAccuracy(2),
    new metrics.CategoricalAccuracy(),
    new metrics.BinaryAccuracy(),
    new metrics.CategoricalCrossentropy(),
    new metrics.Mean(),
  ];
  const yTrue = [[[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]], [[1, 0, 0], [0, 0, 1]]];
  const yPred = [[[0.2, 0.7, 0.1], [0.3, 0.4, 0.3], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]], [[0.9, 0.05, 0.05], [0.25, 0.5, 0.25]]];
  const weights = [[1, 0.5, 2, 1], [0.25, 1]];

  it('for AUC, Precision/Recall, F1, RMSE, accuracies, crossentropy and Mean', () => {
    const eager = make();
    const traced = make();
    // F1Score builds its state on the first update: build it before tracing, as a model's build step would.
    traced[4].updateState([[0, 0, 0]], [[0, 0, 0]]);
    traced[4].resetState();
    const g = keras.trace((t, p, w) => {
      traced.forEach((m, i) => (i === traced.length - 1 ? m.updateState(p, w) : m.updateState(t, p, w)));
      return traced.map((m) => m.result());
    }, [{ shape: [null, 3] }, { shape: [null, 3] }, { shape: [null] }]);
    for (let b = 0; b < 2; b++) {
      const t = ops.convertToTensor(yTrue[b], 'float32');
      const p = ops.convertToTensor(yPred[b], 'float32');
      const w = ops.convertToTensor(weights[b], 'float32');
      eager.forEach((m, i) => (i === eager.length - 1 ? m.updateState(p, w) : m.updateState(t, p, w)));
      const outs = keras.ir.run(g, [t, p, w]);
      outs.forEach((o, i) => expectClose(o, eager[i].result(), { rtol: 1e-6 }));
    }
    // A hand check of one of them: weighted categorical accuracy over both batches.
    expectClose(traced[7].result(), (1 + 0 + 2 + 0 + 0.25 + 0) / 5.75);
  });
});

describe('memory', () => {
  it('repeated updates under tidy keep the live tensor count flat', () => {
    const ms = [new metrics.AUC(), new metrics.F1Score({ threshold: 0.5 }), new metrics.SparseCategoricalAccuracy(), new metrics.RootMeanSquaredError()];
    const t = ops.convertToTensor([[0, 1], [1, 0]], 'float32');
    const p = ops.convertToTensor([[0.3, 0.7], [0.6, 0.4]], 'float32');
    const step = () =>
      keras.tidy(() => {
        ms[0].updateState(t, p);
        ms[1].updateState(t, p);
        ms[2].updateState([1, 0], p);
        ms[3].updateState(t, p);
        ms.forEach((m) => m.result());
      });
    step();
    const before = keras.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    keras.tidy(() => ms.forEach((m) => m.resetState()));
    expect(keras.memory().numTensors).toBe(before);
  });
});
