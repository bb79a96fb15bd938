import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';

const { ops, layers } = keras;

function cpuAvailable(): boolean {
  try {
    keras.config.getBackend('cpu');
    return true;
  } catch {
    return false;
  }
}

/** Trains the same CNN from the same seed on `backend` and returns the per-epoch losses. */
async function lossCurve(backend: string, build: () => keras.Model, x: Float32Array, xShape: number[], y: Int32Array): Promise<{ loss: number[]; acc: number[] }> {
  keras.config.setBackend(backend);
  try {
    keras.utils.setRandomSeed(123);
    const model = build();
    model.compile({ optimizer: new keras.optimizers.Adam(0.01), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const xt = ops.reshape(ops.convertToTensor(x), xShape);
    const yt = ops.convertToTensor(y);
    const h = await model.fit(xt, yt, { epochs: 3, batchSize: 16, verbose: 0 });
    return { loss: h.history.loss, acc: h.history.accuracy };
  } finally {
    keras.config.setBackend('js');
  }
}

describe.skipIf(!cpuAvailable())('the same model from the same seed on js and cpu', () => {
  const n = 64;
  const x = Float32Array.from({ length: n * 8 * 8 }, (_, i) => Math.sin(i * 0.37) * Math.cos(i * 0.011));
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * 64 + 9] > 0 ? 1 : 0) + (x[i * 64 + 30] > 0.3 ? 1 : 0));

  it('follows the same loss curve within 1e-4 relative (CNN with dropout)', async () => {
    const build = () =>
      new keras.Sequential([
        keras.Input({ shape: [8, 8, 1] }),
        new layers.Conv2D(4, 3, { activation: 'relu', padding: 'same' }),
        new layers.MaxPooling2D(2),
        new layers.Flatten(),
        new layers.Dropout(0.2),
        new layers.Dense(3, { activation: 'softmax' }),
      ]);
    const js = await lossCurve('js', build, x, [n, 8, 8, 1], y);
    const cpu = await lossCurve('cpu', build, x, [n, 8, 8, 1], y);
    expect(js.loss[2]).toBeLessThan(js.loss[0]);
    js.loss.forEach((l, i) => {
      expect(Math.abs(cpu.loss[i] - l) / Math.abs(l), `epoch ${i}: js loss ${l}, cpu loss ${cpu.loss[i]}`).toBeLessThan(1e-4);
    });
  });

  it.each(['LSTM', 'GRU'] as const)('follows the same loss curve within 1e-4 relative (%s: the fused cells)', async (kind) => {
    const build = () => new keras.Sequential([keras.Input({ shape: [8, 8] }), new layers[kind](6), new layers.Dense(3, { activation: 'softmax' })]);
    const js = await lossCurve('js', build, x, [n, 8, 8], y);
    const cpu = await lossCurve('cpu', build, x, [n, 8, 8], y);
    js.loss.forEach((l, i) => {
      expect(Math.abs(cpu.loss[i] - l) / Math.abs(l), `epoch ${i}: js loss ${l}, cpu loss ${cpu.loss[i]}`).toBeLessThan(1e-4);
    });
  });
});

describe.skipIf(!cpuAvailable())('switching backends', () => {
  it('random draws and new models follow the current backend after a switch', () => {
    try {
      for (const be of ['cpu', 'js', 'cpu']) {
        keras.config.setBackend(be);
        expect(keras.random.uniform([3]).backend!.name).toBe(be);
        const model = new keras.Sequential([keras.Input({ shape: [4] }), new layers.Dense(2)]);
        expect(model.weights[0].value.backend!.name).toBe(be);
        model.compile({ optimizer: 'adam', loss: 'mse' });
        expect(Number.isFinite(model.trainOnBatch(ops.ones([2, 4]), ops.ones([2, 2])).loss)).toBe(true);
      }
    } finally {
      keras.config.setBackend('js');
    }
  });
});
