import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { tinyData, tinyModel } from './helpers.js';

const { Callback, LambdaCallback } = keras.callbacks;
type Logs = keras.callbacks.Logs;

/** Records every hook with its arguments (logs copied at call time). */
class Recorder extends Callback {
  calls: [string, ...unknown[]][] = [];
  private rec(name: string, ...args: unknown[]): void {
    this.calls.push([name, ...args.map((a) => (a && typeof a === 'object' ? { ...(a as Logs) } : a))]);
  }
  override onTrainBegin(logs?: Logs) { this.rec('onTrainBegin', logs); }
  override onTrainEnd(logs?: Logs) { this.rec('onTrainEnd', logs); }
  override onEpochBegin(epoch: number, logs?: Logs) { this.rec('onEpochBegin', epoch, logs); }
  override onEpochEnd(epoch: number, logs?: Logs) { this.rec('onEpochEnd', epoch, logs); }
  override onTrainBatchBegin(batch: number, logs?: Logs) { this.rec('onTrainBatchBegin', batch, logs); }
  override onTrainBatchEnd(batch: number, logs?: Logs) { this.rec('onTrainBatchEnd', batch, logs); }
  override onTestBegin(logs?: Logs) { this.rec('onTestBegin', logs); }
  override onTestEnd(logs?: Logs) { this.rec('onTestEnd', logs); }
  override onTestBatchBegin(batch: number, logs?: Logs) { this.rec('onTestBatchBegin', batch, logs); }
  override onTestBatchEnd(batch: number, logs?: Logs) { this.rec('onTestBatchEnd', batch, logs); }
  override onPredictBegin(logs?: Logs) { this.rec('onPredictBegin', logs); }
  override onPredictEnd(logs?: Logs) { this.rec('onPredictEnd', logs); }
  override onPredictBatchBegin(batch: number, logs?: Logs) { this.rec('onPredictBatchBegin', batch, logs); }
  override onPredictBatchEnd(batch: number, logs?: Logs) { this.rec('onPredictBatchEnd', batch, logs); }
}

const names = (calls: [string, ...unknown[]][]) => calls.map(([n, ...a]) => (typeof a[0] === 'number' ? `${n}(${a[0]})` : n));

describe('Callback hooks', () => {
  it('fit with validation data calls every hook in Keras order, with the model, params and logs', async () => {
    const { x, y } = tinyData();
    const model = tinyModel(0.1, ['mae']);
    const cb = new Recorder();
    const h = await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0, shuffle: false, validationData: [x.slice(0, 2), y.slice(0, 2)], callbacks: [cb] });
    const epoch = (e: number) => [
      `onEpochBegin(${e})`,
      'onTrainBatchBegin(0)', 'onTrainBatchEnd(0)', 'onTrainBatchBegin(1)', 'onTrainBatchEnd(1)',
      'onTestBegin', 'onTestBatchBegin(0)', 'onTestBatchEnd(0)', 'onTestEnd',
      `onEpochEnd(${e})`,
    ];
    expect(names(cb.calls)).toEqual(['onTrainBegin', ...epoch(0), ...epoch(1), 'onTrainEnd']);
    expect(cb.model).toBe(model);
    expect(cb.params).toEqual({ epochs: 2, steps: 2, verbose: 0 });
    // Batch logs carry the running metrics; epoch logs add val_ metrics and match the History.
    const batchEnd = cb.calls.find(([n]) => n === 'onTrainBatchEnd')!;
    expect(Object.keys(batchEnd[2] as Logs).sort()).toEqual(['loss', 'mae']);
    const epochEnds = cb.calls.filter(([n]) => n === 'onEpochEnd');
    epochEnds.forEach(([, e, logs]) => {
      const l = logs as Logs;
      expect(Object.keys(l).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
      for (const k of Object.keys(l)) expect(l[k]).toBe(h.history[k][e as number]);
    });
    // The validation pass ends with its own logs, which become the val_ entries.
    const testEnd = cb.calls.filter(([n]) => n === 'onTestEnd')[1][1] as Logs;
    expect(testEnd).toEqual({ loss: h.history.val_loss[1], mae: h.history.val_mae[1] });
  });

  it('evaluate and predict call their hooks in Keras order', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    const cb = new Recorder();
    const logs = (await model.evaluate(x, y, { batchSize: 3, verbose: 0, callbacks: [cb], returnDict: true })) as Logs;
    expect(names(cb.calls)).toEqual(['onTestBegin', 'onTestBatchBegin(0)', 'onTestBatchEnd(0)', 'onTestBatchBegin(1)', 'onTestBatchEnd(1)', 'onTestEnd']);
    expect(cb.calls[5][1]).toEqual(logs);
    expect(cb.params).toEqual({ epochs: 1, steps: 2, verbose: 0 });
    const p = new Recorder();
    await model.predict(x, { batchSize: 2, verbose: 0, callbacks: [p] });
    expect(names(p.calls)).toEqual(['onPredictBegin', 'onPredictBatchBegin(0)', 'onPredictBatchEnd(0)', 'onPredictBatchBegin(1)', 'onPredictBatchEnd(1)', 'onPredictEnd']);
  });

  it('stopTraining set in onTrainBatchEnd ends fit after that batch; onEpochEnd and onTrainEnd still run', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    const cb = new Recorder();
    const stop = new LambdaCallback({ onTrainBatchEnd: () => void (model.stopTraining = true) });
    await model.fit(x, y, { epochs: 3, batchSize: 2, verbose: 0, callbacks: [stop, cb] });
    expect(names(cb.calls)).toEqual(['onTrainBegin', 'onEpochBegin(0)', 'onTrainBatchBegin(0)', 'onTrainBatchEnd(0)', 'onEpochEnd(0)', 'onTrainEnd']);
  });
});

describe('LambdaCallback', () => {
  it('calls each given function with the hook arguments; hooks not given do nothing', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    const seen: string[] = [];
    const cb = new LambdaCallback({
      onTrainBegin: (logs) => void seen.push(`trainBegin ${JSON.stringify(logs)}`),
      onEpochBegin: (epoch) => void seen.push(`epochBegin ${epoch}`),
      onTrainBatchBegin: (batch) => void seen.push(`batchBegin ${batch}`),
      onTrainBatchEnd: (batch, logs) => void seen.push(`batchEnd ${batch} ${Object.keys(logs)}`),
      onEpochEnd: (epoch, logs) => void seen.push(`epochEnd ${epoch} ${Object.keys(logs)}`),
      onTrainEnd: () => void seen.push('trainEnd'),
    });
    await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, callbacks: [cb] });
    expect(seen).toEqual(['trainBegin {}', 'epochBegin 0', 'batchBegin 0', 'batchEnd 0 loss', 'epochEnd 0 loss', 'epochBegin 1', 'batchBegin 0', 'batchEnd 0 loss', 'epochEnd 1 loss', 'trainEnd']);
  });

  it('test and predict hooks, the onBatchBegin/onBatchEnd aliases, and async functions (awaited in order)', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    const seen: string[] = [];
    const delay = () => new Promise((r) => setTimeout(r, 5));
    const cb = new LambdaCallback({
      onBatchBegin: async (b) => {
        await delay();
        seen.push(`b${b}`);
      },
      onBatchEnd: (b, logs) => void seen.push(`e${b}:${typeof logs.loss}`),
      onTestBegin: () => void seen.push('testBegin'),
      onTestBatchBegin: (b) => void seen.push(`tb${b}`),
      onTestBatchEnd: (b, logs) => void seen.push(`te${b}:${typeof logs.loss}`),
      onTestEnd: (logs) => void seen.push(`testEnd:${typeof logs.loss}`),
      onPredictBegin: () => void seen.push('predictBegin'),
      onPredictBatchBegin: (b) => void seen.push(`pb${b}`),
      onPredictBatchEnd: (b) => void seen.push(`pe${b}`),
      onPredictEnd: () => void seen.push('predictEnd'),
    });
    await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0, validationData: [x, y], validationBatchSize: 4, callbacks: [cb] });
    expect(seen).toEqual(['b0', 'e0:number', 'b1', 'e1:number', 'testBegin', 'tb0', 'te0:number', 'testEnd:number']);
    seen.length = 0;
    await model.predict(x, { batchSize: 4, verbose: 0, callbacks: [cb] });
    expect(seen).toEqual(['predictBegin', 'pb0', 'pe0', 'predictEnd']);
  });

  it('rejects unknown hook names, non-functions, and an alias given with its hook', () => {
    expect(() => new LambdaCallback({ onEpochStart: () => {} } as never)).toThrow(/LambdaCallback: unknown hook "onEpochStart"; expected one of onEpochBegin/);
    expect(() => new LambdaCallback({ onEpochEnd: 3 } as never)).toThrow(/LambdaCallback: onEpochEnd must be a function, received number/);
    expect(() => new LambdaCallback({ onBatchEnd: () => {}, onTrainBatchEnd: () => {} })).toThrow(/pass onTrainBatchEnd or its alias onBatchEnd, not both/);
  });
});
