import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { captureOutput, fakeModel, tinyData, tinyModel, weightValues } from './helpers.js';

const { ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN, LambdaCallback } = keras.callbacks;

/** Drives ReduceLROnPlateau with one value per epoch; returns the learning rate after each epoch and the logs. */
function drive(cb: keras.callbacks.ReduceLROnPlateau, values: number[], lr = 1, key = 'val_loss'): { lrs: number[]; logs: keras.callbacks.Logs[] } {
  const model = fakeModel(lr);
  cb.setModel(model as never);
  cb.onTrainBegin({});
  const lrs: number[] = [];
  const logs: keras.callbacks.Logs[] = [];
  values.forEach((v, e) => {
    const l = { [key]: v };
    cb.onEpochEnd(e, l);
    lrs.push(model.optimizer.learningRate);
    logs.push(l);
  });
  return { lrs, logs };
}

let cap: ReturnType<typeof captureOutput>;
beforeEach(() => {
  cap = captureOutput();
});
afterEach(() => cap.restore());

describe('ReduceLROnPlateau', () => {
  it('has Keras defaults, positional or object options, and rejects factor >= 1', () => {
    const d = new ReduceLROnPlateau();
    expect([d.monitor, d.factor, d.patience, d.verbose, d.mode, d.minDelta, d.cooldown, d.minLr]).toEqual(['val_loss', 0.1, 10, 0, 'auto', 1e-4, 0, 0]);
    const p = new ReduceLROnPlateau('loss', 0.5, 2, 1, 'max', 0.01, 3, 1e-3);
    expect([p.monitor, p.factor, p.patience, p.verbose, p.mode, p.minDelta, p.cooldown, p.minLr]).toEqual(['loss', 0.5, 2, 1, 'max', 0.01, 3, 1e-3]);
    expect(() => new ReduceLROnPlateau({ factor: 1 })).toThrow(/ReduceLROnPlateau does not support a factor >= 1.0. Received factor=1/);
  });

  it('multiplies the rate by factor after `patience` epochs without an improvement larger than minDelta', () => {
    // 0.99995 improves by less than minDelta 1e-4: it counts as a plateau epoch.
    const { lrs, logs } = drive(new ReduceLROnPlateau({ patience: 2, factor: 0.5 }), [1, 0.99995, 0.99999, 0.5, 0.6, 0.7]);
    expect(lrs).toEqual([1, 1, 0.5, 0.5, 0.5, 0.25]);
    // learning_rate joins the logs with the rate in effect during the epoch.
    expect(logs.map((l) => l.learning_rate)).toEqual([1, 1, 1, 0.5, 0.5, 0.5]);
  });

  it('cooldown: no counting for `cooldown` epochs after a reduction', () => {
    const { lrs } = drive(new ReduceLROnPlateau({ patience: 1, factor: 0.5, cooldown: 2 }), [1, 1, 1, 1, 1, 1, 1]);
    // As Keras: reduce at 1; the counter drops at the start of epochs 2 and 3, so only epoch 2
    // is skipped and epoch 3 (wait 1 >= patience) reduces again; likewise 5.
    expect(lrs).toEqual([1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]);
    expect(drive(new ReduceLROnPlateau({ patience: 1, factor: 0.5, cooldown: 0 }), [1, 1, 1]).lrs).toEqual([1, 0.5, 0.25]);
  });

  it('minLr: the rate never goes below it and stops changing there', () => {
    const { lrs } = drive(new ReduceLROnPlateau({ patience: 1, factor: 0.1, minLr: 0.005 }), [1, 1, 1, 1, 1], 1);
    expect(lrs.map(Math.fround)).toEqual([1, 0.1, 0.01, 0.005, 0.005].map(Math.fround));
  });

  it('mode: auto maximizes accuracy-like metrics; max and min are honoured', () => {
    expect(drive(new ReduceLROnPlateau({ monitor: 'val_accuracy', patience: 1, factor: 0.5 }), [0.5, 0.6, 0.7, 0.65], 1, 'val_accuracy').lrs).toEqual([1, 1, 1, 0.5]);
    expect(drive(new ReduceLROnPlateau({ monitor: 'val_accuracy', patience: 1, factor: 0.5, mode: 'min' }), [0.5, 0.6], 1, 'val_accuracy').lrs).toEqual([1, 0.5]);
    expect(drive(new ReduceLROnPlateau({ patience: 1, factor: 0.5, mode: 'max' }), [0.5, 0.4], 1).lrs).toEqual([1, 0.5]);
  });

  it('a missing monitored metric warns with the available metrics and leaves the rate alone', () => {
    const { lrs } = drive(new ReduceLROnPlateau({ monitor: 'val_acc', patience: 0 }), [1, 1], 1, 'loss');
    expect(lrs).toEqual([1, 1]);
    expect(cap.warnings()[0]).toBe('Learning rate reduction is conditioned on metric `val_acc` which is not available. Available metrics are: loss,learning_rate');
  });

  it('in fit: lowers model.optimizer.learningRate on a plateau, prints in verbose mode and records learning_rate', async () => {
    const { x, y } = tinyData();
    const model = tinyModel(0.1);
    const plateau = new LambdaCallback({ onEpochEnd: (_e, logs) => void (logs.plateau = 1) });
    const cb = new ReduceLROnPlateau({ monitor: 'plateau', patience: 1, factor: 0.5, verbose: 1 });
    const h = await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, callbacks: [plateau, cb] });
    expect(h.history.learning_rate).toEqual([0.1, 0.1, 0.05]);
    expect(model.optimizer!.learningRate).toBe(0.025);
    expect(cap.out()).toBe('\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.05.\n\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.025.\n');
  });
});

describe('LearningRateScheduler', () => {
  it('sets schedule(epoch, lr) at each epoch begin, from the current rate', async () => {
    const model = fakeModel(0.5);
    const calls: [number, number][] = [];
    const cb = new LearningRateScheduler((epoch, lr) => {
      calls.push([epoch, lr]);
      return epoch < 2 ? lr : lr * 0.5;
    });
    cb.setModel(model as never);
    for (let e = 0; e < 4; e++) {
      await cb.onEpochBegin(e);
      const logs: keras.callbacks.Logs = {};
      cb.onEpochEnd(e, logs);
      expect(logs.learning_rate).toBe(model.optimizer.learningRate);
    }
    expect(calls).toEqual([[0, 0.5], [1, 0.5], [2, 0.5], [3, 0.25]]);
    expect(model.optimizer.learningRate).toBe(0.125);
  });

  it('rejects a schedule that returns a non-number, naming the epoch', async () => {
    const cb = new LearningRateScheduler(() => NaN);
    cb.setModel(fakeModel() as never);
    await expect(cb.onEpochBegin(3)).rejects.toThrow(/LearningRateScheduler: the output of the schedule function should be a finite number. Got: NaN at epoch 3/);
    expect(() => new LearningRateScheduler(0.1 as never)).toThrow(/LearningRateScheduler: schedule must be a function/);
  });

  it('in fit: the schedule values reach the optimizer; rate 0 freezes the weights exactly; async schedules work', async () => {
    const { x, y } = tinyData();
    const model = tinyModel(0.1);
    model.build([null, 2]);
    const weights: number[][][] = [weightValues(model)];
    const record = new LambdaCallback({ onEpochEnd: () => void weights.push(weightValues(model)) });
    const rates = [0.1, 0, 0.05];
    const cb = new LearningRateScheduler(async (epoch) => rates[epoch], 1);
    const h = await model.fit(x, y, { epochs: 3, batchSize: 2, verbose: 0, shuffle: false, callbacks: [cb, record] });
    expect(h.history.learning_rate).toEqual([0.1, 0, 0.05]);
    expect(weights[1]).not.toEqual(weights[0]);
    expect(weights[2]).toEqual(weights[1]);
    expect(weights[3]).not.toEqual(weights[2]);
    expect(cap.out()).toBe(
      '\nEpoch 1: LearningRateScheduler setting learning rate to 0.1.\n\nEpoch 2: LearningRateScheduler setting learning rate to 0.0.\n\nEpoch 3: LearningRateScheduler setting learning rate to 0.05.\n',
    );
  });

  it('in fit: one SGD step moves the bias by exactly -lr * dLoss/db', async () => {
    // Dense(1) with zero weights on x = 0: prediction = bias, loss = (b - y)^2, dL/db = 2 (b - y).
    const model = new keras.Sequential([new keras.layers.Dense(1, { inputShape: [1], kernelInitializer: 'zeros', biasInitializer: 'zeros' })]);
    model.compile({ optimizer: new keras.optimizers.SGD(1), loss: 'mse' });
    const cb = new LearningRateScheduler(() => 0.25);
    await model.fit([[0]], [[2]], { epochs: 1, batchSize: 1, verbose: 0, callbacks: [cb] });
    // b = 0 - 0.25 * 2 * (0 - 2) = 1.
    expect(weightValues(model)[1]).toEqual([1]);
  });
});

describe('TerminateOnNaN', () => {
  it('stops on a NaN or infinite batch loss, not on finite ones', () => {
    for (const [loss, stops] of [[NaN, true], [Infinity, true], [-Infinity, true], [1e30, false]] as const) {
      const model = fakeModel();
      const cb = new TerminateOnNaN();
      cb.setModel(model as never);
      cb.onTrainBatchEnd(4, { loss });
      expect(model.stopTraining, String(loss)).toBe(stops);
    }
    const model = fakeModel();
    const cb = new TerminateOnNaN();
    cb.setModel(model as never);
    cb.onTrainBatchEnd(0, {});
    expect(model.stopTraining).toBe(false);
    expect(cap.out()).toBe('Batch 4: Invalid loss, terminating training\n'.repeat(3));
  });

  it('in fit: training ends after the batch whose loss is NaN', async () => {
    const { x, y } = tinyData();
    x[2][0] = NaN; // in the second batch of 2
    const model = tinyModel(0.1);
    const batches: number[] = [];
    const count = new LambdaCallback({ onTrainBatchEnd: (b) => void batches.push(b) });
    const h = await model.fit(x, y, { epochs: 5, batchSize: 2, verbose: 0, shuffle: false, callbacks: [new TerminateOnNaN(), count] });
    expect(batches).toEqual([0, 1]);
    expect(h.history.loss).toHaveLength(1);
    expect(h.history.loss[0]).toBeNaN();
    expect(cap.out()).toBe('Batch 1: Invalid loss, terminating training\n');
  });
});
