import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { captureOutput, fakeModel, tinyData, tinyModel, weightValues } from './helpers.js';

const { EarlyStopping, LambdaCallback } = keras.callbacks;

/** Drives EarlyStopping's hooks with one monitored value per epoch; returns the epoch after which training stopped (or null). */
function drive(cb: keras.callbacks.EarlyStopping, values: (number | undefined)[], key = 'val_loss', model = fakeModel()): number | null {
  cb.setModel(model as never);
  cb.onTrainBegin({});
  for (let e = 0; e < values.length; e++) {
    cb.onEpochEnd(e, values[e] === undefined ? { loss: 1 } : { [key]: values[e]! });
    if (model.stopTraining) return e;
  }
  return null;
}

describe('EarlyStopping', () => {
  let cap: ReturnType<typeof captureOutput>;
  beforeEach(() => {
    cap = captureOutput();
  });
  afterEach(() => cap.restore());

  it('has Keras defaults and takes options positionally or as an object', () => {
    const d = new EarlyStopping();
    expect([d.monitor, d.minDelta, d.patience, d.verbose, d.mode, d.baseline, d.restoreBestWeights, d.startFromEpoch]).toEqual(['val_loss', 0, 0, 0, 'auto', null, false, 0]);
    const p = new EarlyStopping('loss', -0.5, 3, 1, 'max', 0.2, true, 4);
    expect([p.monitor, p.minDelta, p.patience, p.verbose, p.mode, p.baseline, p.restoreBestWeights, p.startFromEpoch]).toEqual(['loss', 0.5, 3, 1, 'max', 0.2, true, 4]);
    const o = new EarlyStopping('loss', { patience: 2 });
    expect([o.monitor, o.patience]).toEqual(['loss', 2]);
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/EarlyStopping: patience must be a non-negative integer, received -1/);
  });

  it('counts patience: stops once `patience` epochs pass without improvement (never at epoch 0)', () => {
    const cb = new EarlyStopping({ patience: 2 });
    expect(drive(cb, [1.0, 0.9, 0.95, 0.92, 0.5])).toBe(3);
    expect(cb.stoppedEpoch).toBe(3);
    expect(cb.best).toBe(0.9);
    expect(cb.bestEpoch).toBe(1);
    expect(cb.wait).toBe(2);
    // patience 0: the first non-improving epoch stops, but epoch 0 never does.
    expect(drive(new EarlyStopping({ patience: 0 }), [1.0, 1.0])).toBe(1);
    expect(drive(new EarlyStopping({ patience: 0 }), [1.0, 0.5, 0.25])).toBe(null);
  });

  it('minDelta: an improvement must exceed |minDelta|; an equal value is no improvement', () => {
    expect(drive(new EarlyStopping({ patience: 1, minDelta: -0.1 }), [1.0, 0.95])).toBe(1);
    expect(drive(new EarlyStopping({ patience: 1, minDelta: 0.1 }), [1.0, 0.89, 0.78, 0.7])).toBe(3);
    expect(drive(new EarlyStopping({ patience: 1, mode: 'max', minDelta: 0.1 }), [1.0, 1.11, 1.2])).toBe(2);
    expect(drive(new EarlyStopping({ patience: 1 }), [0.5, 0.5])).toBe(1);
  });

  it('baseline: the wait restarts only when the value beats both the best and the baseline', () => {
    // 0.8 and 0.7 improve on the best but not on 0.5: the wait keeps counting (1, 2), 0.75 stops.
    const cb = new EarlyStopping({ patience: 2, baseline: 0.5 });
    expect(drive(cb, [0.8, 0.7, 0.75])).toBe(2);
    expect(cb.best).toBe(0.7);
    // Beating the baseline at epoch 1 resets the wait.
    expect(drive(new EarlyStopping({ patience: 2, baseline: 0.5 }), [0.8, 0.4, 0.45, 0.46])).toBe(3);
    expect(drive(new EarlyStopping({ patience: 2, baseline: 0.5, mode: 'max' }), [0.6, 0.4, 0.45])).toBe(2);
  });

  it('mode auto: accuracy-like names are maximized, losses and errors minimized; explicit modes override', () => {
    const up = [0.5, 0.6, 0.55];
    for (const name of ['val_accuracy', 'acc', 'val_auc', 'precision', 'val_recall', 'val_f1_score', 'mean_iou', 'val_categorical_accuracy']) {
      expect(drive(new EarlyStopping({ monitor: name, patience: 1 }), up, name), name).toBe(2);
    }
    for (const name of ['val_loss', 'loss', 'val_mean_squared_error', 'mae', 'val_output_1_loss']) {
      expect(drive(new EarlyStopping({ monitor: name, patience: 1 }), up, name), name).toBe(1);
    }
    expect(drive(new EarlyStopping({ monitor: 'val_accuracy', patience: 1, mode: 'min' }), up, 'val_accuracy')).toBe(1);
    expect(drive(new EarlyStopping({ monitor: 'val_loss', patience: 1, mode: 'max' }), up)).toBe(2);
    // A model metric that declares its direction decides.
    const model = { ...fakeModel(), metrics: [{ name: 'score', direction: 'up' }] };
    expect(drive(new EarlyStopping({ monitor: 'val_score', patience: 1 }), up, 'val_score', model as never)).toBe(2);
    // An unknown mode warns and falls back to auto.
    const cb = new EarlyStopping({ monitor: 'accuracy', patience: 1, mode: 'biggest' as never });
    expect(cap.warnings()).toEqual(['EarlyStopping mode biggest is unknown, fallback to auto mode.']);
    expect(cb.mode).toBe('auto');
    expect(drive(cb, up, 'accuracy')).toBe(2);
  });

  it('startFromEpoch: epochs before it are not monitored', () => {
    const cb = new EarlyStopping({ patience: 1, startFromEpoch: 2 });
    // Epochs 0-1 (getting worse) are ignored; 2 sets the best, 3 does not improve.
    expect(drive(cb, [0.1, 0.5, 0.9, 0.95])).toBe(3);
    expect(cb.bestEpoch).toBe(2);
  });

  it('a missing monitored metric warns, naming it and the available metrics, and never stops', () => {
    const cb = new EarlyStopping({ patience: 0 });
    expect(drive(cb, [undefined, undefined, undefined])).toBe(null);
    expect(cap.warnings()).toHaveLength(3);
    expect(cap.warnings()[0]).toBe('Early stopping conditioned on metric `val_loss` which is not available. Available metrics are: loss');
  });

  it('restoreBestWeights restores the exact values of the best epoch at train end, and prints in verbose mode', () => {
    const model = tinyModel();
    model.build([null, 2]);
    const cb = new EarlyStopping({ monitor: 'loss', patience: 2, restoreBestWeights: true, verbose: 1 });
    cb.setModel(model);
    cb.onTrainBegin({});
    const snapshots: number[][][] = [];
    const losses = [0.5, 0.3, 0.4, 0.45];
    for (let e = 0; e < losses.length && !model.stopTraining; e++) {
      // Weights that are not round in float32, so a lossy copy would show.
      const values = [[[0.1 + e / 3], [-0.7 - e / 7]], [Math.PI * (e + 1)]];
      model.setWeights(values.map((v) => keras.ops.convertToTensor(v, 'float32')));
      snapshots.push(weightValues(model));
      cb.onEpochEnd(e, { loss: losses[e] });
    }
    expect(model.stopTraining).toBe(true);
    expect(weightValues(model)).toEqual(snapshots[3]);
    cb.onTrainEnd({});
    expect(weightValues(model)).toEqual(snapshots[1]);
    expect(cap.out()).toBe('Epoch 4: early stopping\nRestoring model weights from the end of the best epoch: 2.\n');
  });

  it('restores the weights of the first monitored epoch when nothing improves (it is the best)', () => {
    const model = tinyModel();
    model.build([null, 2]);
    const cb = new EarlyStopping({ monitor: 'loss', patience: 5, restoreBestWeights: true });
    cb.setModel(model);
    cb.onTrainBegin({});
    const first = weightValues(model);
    cb.onEpochEnd(0, { loss: 1 });
    model.setWeights([[[1], [2]], [3]].map((v) => keras.ops.convertToTensor(v, 'float32')));
    cb.onEpochEnd(1, { loss: 2 });
    cb.onTrainEnd({});
    expect(weightValues(model)).toEqual(first);
    expect(cap.out()).toBe('');
  });

  it('in fit: a flat loss stops after `patience` more epochs', async () => {
    const { x, y } = tinyData();
    // Learning rate 0: the loss never changes.
    const model = tinyModel(0);
    const cb = new EarlyStopping({ monitor: 'loss', patience: 2 });
    const h = await model.fit(x, y, { epochs: 10, batchSize: 4, verbose: 0, callbacks: [cb] });
    expect(h.history.loss).toHaveLength(3);
    expect(h.history.loss[2]).toBe(h.history.loss[0]);
    expect(cb.stoppedEpoch).toBe(2);
    // A second fit reuses the instance from scratch.
    const h2 = await model.fit(x, y, { epochs: 10, batchSize: 4, verbose: 0, callbacks: [cb] });
    expect(h2.history.loss).toHaveLength(3);
  });

  it('in fit: restoreBestWeights puts back the best epoch\'s trained weights and keeps memory flat', async () => {
    // Tensors, not arrays: fit converts arrays to tensors it does not free (see the report).
    const x = keras.ops.convertToTensor(tinyData().x);
    const y = keras.ops.convertToTensor(tinyData().y);
    const model = tinyModel(0.1);
    await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
    const before = keras.memory().numTensors;
    const score = [0.5, 0.3, 0.4, 0.45, 0.6, 0.1];
    const seen: number[][][] = [];
    const recorder = new LambdaCallback({
      onEpochEnd: (epoch, logs) => {
        logs.score = score[epoch];
        seen.push(weightValues(model));
      },
    });
    const cb = new EarlyStopping({ monitor: 'score', patience: 2, restoreBestWeights: true });
    const h = await model.fit(x, y, { epochs: 6, batchSize: 2, verbose: 0, callbacks: [recorder, cb] });
    expect(h.history.score).toEqual([0.5, 0.3, 0.4, 0.45]);
    expect(seen[1]).not.toEqual(seen[3]);
    expect(weightValues(model)).toEqual(seen[1]);
    expect(keras.memory().numTensors).toBe(before);
  });
});
