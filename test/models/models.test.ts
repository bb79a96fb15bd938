import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { expectClose } from '../helpers.js';

const { ops, layers } = keras;

/** XOR-like quadrant data: label 1 where a*b > 0. Deterministic. */
function quadrants(n: number, seed = 3): { x: keras.Tensor; y: keras.Tensor; raw: Float32Array; labels: Int32Array } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const raw = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    raw[2 * i] = rand();
    raw[2 * i + 1] = rand();
    labels[i] = raw[2 * i] * raw[2 * i + 1] > 0 ? 1 : 0;
  }
  return { x: ops.reshape(ops.convertToTensor(raw), [n, 2]), y: ops.convertToTensor(labels), raw, labels };
}

function memoryProbe(counts: number[]): keras.callbacks.Callback {
  return new (class extends keras.callbacks.Callback {
    override onEpochEnd(): void {
      counts.push(keras.memory().numTensors);
    }
  })();
}

describe('Sequential', () => {
  it('trains an MLP to high accuracy with fit, keeps memory flat across epochs, and evaluates/predicts', async () => {
    keras.utils.setRandomSeed(1);
    const { x, y } = quadrants(256);
    const model = new keras.Sequential([new layers.Dense(16, { activation: 'relu', inputShape: [2] }), new layers.Dense(2, { activation: 'softmax' })]);
    model.compile({ optimizer: new keras.optimizers.Adam(0.05), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const counts: number[] = [];
    const history = await model.fit(x, y, { epochs: 20, batchSize: 32, verbose: 0, callbacks: [memoryProbe(counts)] });
    expect(history.history.loss).toHaveLength(20);
    expect(history.history.loss[19]).toBeLessThan(history.history.loss[0] / 3);
    expect(history.history.accuracy[19]).toBeGreaterThan(0.9);
    expect(new Set(counts.slice(1)).size, `live tensors per epoch: ${counts}`).toBe(1);
    const logs = (await model.evaluate(x, y, { verbose: 0, returnDict: true })) as Record<string, number>;
    expect(logs.accuracy).toBeGreaterThan(0.9);
    const probs = (await model.predict(x, { verbose: 0 })) as keras.Tensor;
    expect(probs.shape).toEqual([256, 2]);
    expectClose(ops.sum(probs, 1), new Array(256).fill(1), { rtol: 1e-5 });
  });

  it('prints Keras summary with output shapes and parameter counts', () => {
    const model = new keras.Sequential([keras.Input({ shape: [784] }), new layers.Dense(64, { activation: 'relu', name: 'hidden' }), new layers.Dense(10, { name: 'out' })], { name: 'mlp' });
    const lines: string[] = [];
    const text = model.summary({ printFn: (l) => lines.push(l) });
    expect(text).toContain('Model: "mlp"');
    expect(text).toMatch(/hidden \(Dense\)\s+│ \(None, 64\)\s+│\s+50,240 │/);
    expect(text).toMatch(/out \(Dense\)\s+│ \(None, 10\)\s+│\s+650 │/);
    expect(text).toContain('Total params: 50,890 (198.79 KB)');
    expect(text).toContain('Non-trainable params: 0 (0.00 B)');
  });

  it('add and pop; build on first call without a declared input', () => {
    const model = new keras.Sequential();
    model.add(new layers.Dense(3));
    model.add(new layers.Dense(1));
    expect(model.built).toBe(false);
    const out = model.apply(ops.ones([4, 5])) as keras.Tensor;
    expect(out.shape).toEqual([4, 1]);
    expect(model.countParams()).toBe(5 * 3 + 3 + 3 + 1);
    expect(model.pop().name).toMatch(/^dense/);
    expect(model.layers).toHaveLength(1);
  });

  it('round-trips getConfig / fromConfig', () => {
    const model = new keras.Sequential([keras.Input({ shape: [4] }), new layers.Dense(8, { activation: 'tanh' }), new layers.Dropout(0.5), new layers.Dense(2)]);
    const clone = keras.Sequential.fromConfig(model.getConfig());
    expect(clone.layers.map((l) => l.className)).toEqual(['Dense', 'Dropout', 'Dense']);
    expect((clone.layers[0] as keras.layers.Dense).units).toBe(8);
    expect(clone.countParams()).toBe(model.countParams());
  });

  it('reports incompatible input shapes naming the layer and shapes', () => {
    const model = new keras.Sequential([keras.Input({ shape: [4] }), new layers.Dense(2, { name: 'dense_in' })]);
    expect(() => model.apply(ops.ones([3, 5]))).toThrow(/Input 0 of layer "dense_in" is incompatible with the layer: expected axis -1 of input shape to have value 4, received shape \(3, 5\)/);
  });
});

describe('functional models', () => {
  it('builds from keras.Input without computing, with two inputs, two named outputs and a shared layer', async () => {
    const a = keras.Input({ shape: [2], name: 'a' });
    const b = keras.Input({ shape: [2], name: 'b' });
    const shared = new layers.Dense(8, { activation: 'relu', name: 'shared' });
    const merged = ops.concatenate([shared.apply(a) as keras.Tensor, shared.apply(b) as keras.Tensor], -1);
    const sum = new layers.Dense(1, { name: 'sum' }).apply(merged) as keras.Tensor;
    const cls = new layers.Dense(2, { activation: 'softmax', name: 'cls' }).apply(merged) as keras.Tensor;
    expect(sum.isSymbolic).toBe(true);
    expect(sum.shape).toEqual([null, 1]);
    const model = new keras.Model({ inputs: [a, b], outputs: { sum, cls } });
    expect(model.outputNames).toEqual(['sum', 'cls']);
    expect(model.layers.map((l) => l.name)).toEqual(['a', 'b', 'shared', 'sum', 'cls']);
    expect(model.trainableWeights).toHaveLength(6);

    keras.utils.setRandomSeed(2);
    const d1 = quadrants(256, 5);
    const d2 = quadrants(256, 9);
    const target = ops.add(ops.sum(d1.x, 1, true), ops.sum(d2.x, 1, true));
    model.compile({ optimizer: new keras.optimizers.Adam(0.02), loss: { sum: 'mse', cls: 'sparse_categorical_crossentropy' }, lossWeights: { sum: 1, cls: 0.5 }, metrics: { cls: ['accuracy'] } });
    const h = await model.fit([d1.x, d2.x], { sum: target, cls: d1.y }, { epochs: 30, batchSize: 32, verbose: 0 });
    expect(Object.keys(h.history).sort()).toEqual(['cls_accuracy', 'cls_loss', 'loss', 'sum_loss']);
    expect(h.history.sum_loss[29]).toBeLessThan(0.05);
    expect(h.history.cls_accuracy[29]).toBeGreaterThan(0.85);
    const out = (await model.predict([d1.x, d2.x], { verbose: 0 })) as keras.Tensor[];
    expect(out.map((t) => t.shape)).toEqual([[256, 1], [256, 2]]);
  });

  it('uses a nested model as a layer', () => {
    const inner = new keras.Sequential([keras.Input({ shape: [3] }), new layers.Dense(4)], { name: 'inner' });
    const x = keras.Input({ shape: [3] });
    const y = new layers.Dense(1).apply(inner.apply(x) as keras.Tensor) as keras.Tensor;
    const outer = new keras.Model({ inputs: x, outputs: y });
    expect(outer.countParams()).toBe(3 * 4 + 4 + 4 + 1);
    expect((outer.apply(ops.ones([2, 3])) as keras.Tensor).shape).toEqual([2, 1]);
  });

  it('round-trips getConfig / fromConfig', () => {
    const x = keras.Input({ shape: [3], name: 'x' });
    const h = new layers.Dense(4, { activation: 'relu', name: 'h' }).apply(x) as keras.Tensor;
    const y = new layers.Dense(2, { name: 'y' }).apply(h) as keras.Tensor;
    const model = new keras.Model({ inputs: x, outputs: y, name: 'func' });
    const clone = keras.Model.fromConfig(model.getConfig());
    expect(clone.layers.map((l) => l.className)).toEqual(['InputLayer', 'Dense', 'Dense']);
    expect(clone.countParams()).toBe(model.countParams());
    expect((clone.apply(ops.ones([5, 3])) as keras.Tensor).shape).toEqual([5, 2]);
  });

  it('reports a disconnected graph', () => {
    const a = keras.Input({ shape: [2] });
    const b = keras.Input({ shape: [2] });
    const y = new layers.Dense(1).apply(b) as keras.Tensor;
    expect(() => new keras.Model({ inputs: a, outputs: y })).toThrow(/Graph disconnected/);
  });
});

describe('subclassed models', () => {
  class Residual extends keras.Model {
    dense1 = new layers.Dense(16, { activation: 'tanh' });
    dense2 = new layers.Dense(2, { activation: 'softmax' });
    override call(x: keras.Tensor | keras.Tensor[], options: keras.layers.CallOptions = {}): keras.Tensor {
      const h = this.dense1.apply(x as keras.Tensor, options) as keras.Tensor;
      return this.dense2.apply(h) as keras.Tensor;
    }
  }

  it('tracks sublayers as attributes and trains', async () => {
    keras.utils.setRandomSeed(3);
    const model = new Residual();
    const { x, y } = quadrants(256, 11);
    model.compile({ optimizer: new keras.optimizers.Adam(0.05), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const h = await model.fit(x, y, { epochs: 25, batchSize: 32, verbose: 0 });
    expect(model.layers).toHaveLength(2);
    expect(model.trainableWeights).toHaveLength(4);
    expect(h.history.accuracy[24]).toBeGreaterThan(0.85);
  });

  it('runs value-dependent control flow eagerly with jitCompile false', async () => {
    class Branchy extends keras.Model {
      dense = new layers.Dense(1);
      override call(x: keras.Tensor | keras.Tensor[]): keras.Tensor {
        const t = x as keras.Tensor;
        // Reads a value: impossible in a traced graph.
        return ops.sum(t).item() > 0 ? (this.dense.apply(t) as keras.Tensor) : ops.negative(this.dense.apply(t) as keras.Tensor);
      }
    }
    const model = new Branchy();
    model.compile({ optimizer: 'sgd', loss: 'mse', jitCompile: false });
    const h = await model.fit(ops.ones([8, 2]), ops.ones([8, 1]), { epochs: 3, verbose: 0 });
    expect(h.history.loss).toHaveLength(3);
    // 'auto' falls back to eager when tracing fails.
    const auto = new Branchy();
    auto.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(auto.fit(ops.ones([8, 2]), ops.ones([8, 1]), { epochs: 1, verbose: 0 })).resolves.toBeDefined();
  });

  it('trainable = false freezes all weights recursively', () => {
    const model = new Residual();
    model.apply(ops.ones([1, 2]));
    model.trainable = false;
    expect(model.trainableWeights).toHaveLength(0);
    expect(model.nonTrainableWeights).toHaveLength(4);
    expect(model.dense1.trainable).toBe(false);
  });
});

describe('training API', () => {
  it('fit validates, reports val_ metrics and supports stopTraining from a callback', async () => {
    const { x, y } = quadrants(100);
    const model = new keras.Sequential([new layers.Dense(2, { activation: 'softmax' })]);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['acc'] });
    const stopper = new (class extends keras.callbacks.Callback {
      override onEpochEnd(epoch: number): void {
        if (epoch === 1) this.model.stopTraining = true;
      }
    })();
    const h = await model.fit(x, y, { epochs: 10, validationSplit: 0.2, verbose: 0, callbacks: [stopper] });
    expect(h.epoch).toEqual([0, 1]);
    expect(Object.keys(h.history).sort()).toEqual(['acc', 'loss', 'val_acc', 'val_loss']);
  });

  it('trainOnBatch / testOnBatch / predictOnBatch and an async iterable dataset', async () => {
    const model = new keras.Sequential([new layers.Dense(1, { inputShape: [2], kernelInitializer: 'zeros' })]);
    model.compile({ optimizer: new keras.optimizers.SGD(0.1), loss: 'mse' });
    const x = ops.convertToTensor([[1, 2]], 'float32');
    const y = ops.convertToTensor([[3]], 'float32');
    // w = 0: loss = 9, grad wrt kernel = -2 * 3 * [1, 2] = [-6, -12], bias grad -6.
    expect(model.testOnBatch(x, y).loss).toBeCloseTo(9, 5);
    model.trainOnBatch(x, y);
    expectClose(model.getWeights()[0], [[0.6], [1.2]], { rtol: 1e-5 });
    expectClose(model.predictOnBatch(x) as keras.Tensor, [[0.6 + 2.4 + 0.6]], { rtol: 1e-5 });
    async function* batches() {
      for (let i = 0; i < 3; i++) yield [x, y] as [keras.Tensor, keras.Tensor];
    }
    const h = await model.fit(batches(), undefined, { epochs: 1, verbose: 0 });
    expect(h.history.loss).toHaveLength(1);
  });

  it('compiles a step again for inputs of another shape or dtype past the batch dim, and reuses it for the same', () => {
    const model = new keras.Sequential([keras.Input({ shape: [null, 2] }), new layers.GlobalAveragePooling1D()]);
    const seq = (n: number, dtype: 'float32' | 'int32' = 'float32') => ops.reshape(ops.convertToTensor(Array.from({ length: 2 * n }, (_, i) => i), dtype), [1, n, 2]);
    // Means over the sequence of [0, 1], [2, 3], ...: [n - 1, n].
    expectClose(model.predictOnBatch(seq(3)) as keras.Tensor, [[2, 3]]);
    const compiled = (model as unknown as { compiledPredict: unknown }).compiledPredict;
    expectClose(model.predictOnBatch(ops.concatenate([seq(3), seq(3)], 0)) as keras.Tensor, [[2, 3], [2, 3]]);
    expect((model as unknown as { compiledPredict: unknown }).compiledPredict, 'another batch size reuses the step').toBe(compiled);
    expectClose(model.predictOnBatch(seq(5)) as keras.Tensor, [[4, 5]]);
    expect((model as unknown as { compiledPredict: unknown }).compiledPredict, 'a longer sequence compiles anew').not.toBe(compiled);
    const out = model.predictOnBatch(seq(5, 'int32')) as keras.Tensor;
    expect(out.dtype).toBe('float32');
    expectClose(out, [[4, 5]]);
  });

  it('names what is missing', async () => {
    const model = new keras.Sequential([new layers.Dense(1)]);
    await expect(model.fit(ops.ones([2, 2]), ops.ones([2, 1]))).rejects.toThrow(/You must call compile\(\) before fit/);
    model.compile({ optimizer: 'adam', loss: 'no_such_loss' as never });
    await expect(model.fit(ops.ones([2, 2]), ops.ones([2, 1]), { verbose: 0 })).rejects.toThrow(/no_such_loss/);
    expect(() => model.compile({ optimizer: 'adamz' })).toThrow(/adamz/);
    const m2 = new keras.Sequential([new layers.Dense(1)]);
    m2.compile({ loss: 'mse' });
    await expect(m2.fit(ops.ones([4, 2]), ops.ones([3, 1]), { verbose: 0 })).rejects.toThrow(/same first dimension; received shapes \(4, 2\), \(3, 1\)/);
  });
});

describe('bad data', () => {
  it('warns about NaN inputs, naming the array and its shape', async () => {
    const warnings: string[] = [];
    const listener = (w: Error) => warnings.push(w.message);
    process.on('warning', listener);
    try {
      const model = new keras.Sequential([new layers.Dense(1)]);
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      const x = ops.convertToTensor([[1, NaN], [2, 3]], 'float32');
      await model.fit(x, ops.ones([2, 1]), { epochs: 1, verbose: 0 });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', listener);
    }
    expect(warnings.some((w) => /x of shape \(2, 2\) contains 1 NaN value/.test(w)), warnings.join('\n')).toBe(true);
  });

  it('warns once per fit (validation split and sample weights included), and not from predict, whose NaN shows in its output', async () => {
    const warnings: string[] = [];
    const listener = (w: Error) => warnings.push(w.message);
    process.on('warning', listener);
    try {
      const model = new keras.Sequential([keras.Input({ shape: [2] }), new layers.Dense(1, { kernelInitializer: 'ones' })]);
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      const x = ops.convertToTensor([[1, NaN], [2, 3], [4, 5], [6, 7]], 'float32');
      const out = (await model.predict(x, { verbose: 0 })) as keras.Tensor;
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => /NaN value/.test(w)), warnings.join('\n')).toHaveLength(0);
      expect(Number.isNaN(out.dataSync()[0])).toBe(true);
      expect(out.dataSync()[1]).toBe(5); // 2 + 3, a zero bias
      await model.fit(x, ops.ones([4, 1]), { epochs: 1, verbose: 0, validationSplit: 0.5, sampleWeight: ops.ones([4]) });
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => /NaN value/.test(w)), warnings.join('\n')).toHaveLength(1);
    } finally {
      process.off('warning', listener);
    }
  });
});

describe('a CNN', () => {
  it('learns to tell horizontal from vertical bars (loss below 0.1)', async () => {
    keras.utils.setRandomSeed(5);
    const n = 96;
    const x = new Float32Array(n * 8 * 8);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const vertical = i % 2;
      const pos = 1 + ((i * 5) % 6);
      for (let k = 0; k < 8; k++) x[i * 64 + (vertical ? k * 8 + pos : pos * 8 + k)] = 1;
      y[i] = vertical;
    }
    class BarNet extends keras.Model {
      conv = new layers.Conv2D(4, 3, { activation: 'relu' });
      pool = new layers.GlobalMaxPooling2D();
      out = new layers.Dense(2, { activation: 'softmax' });
      override call(t: keras.Tensor | keras.Tensor[]): keras.Tensor {
        return this.out.apply(this.pool.apply(this.conv.apply(t))) as keras.Tensor;
      }
    }
    const model = new BarNet();
    model.compile({ optimizer: new keras.optimizers.Adam(0.05), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const h = await model.fit(ops.reshape(ops.convertToTensor(x), [n, 8, 8, 1]), ops.convertToTensor(y), { epochs: 15, batchSize: 16, verbose: 0 });
    expect(h.history.loss[14], `losses ${h.history.loss.map((l) => l.toFixed(3))}`).toBeLessThan(0.1);
    expect(h.history.accuracy[14]).toBe(1);
  });
});
