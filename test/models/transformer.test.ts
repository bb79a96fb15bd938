import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';

const { ops, layers } = keras;

/** Deterministic uniform values in [-1, 1) (an LCG), as a float32 tensor of `shape`. */
function uniform(shape: number[], seed: number): { t: Tensor; v: Float32Array } {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return { t: ops.reshape(ops.convertToTensor(v), shape), v };
}

/** One post-norm Transformer encoder block and a per-position regression head. */
class TinyTransformer extends keras.Model {
  embed = new layers.Dense(16);
  attention = new layers.MultiHeadAttention(2, 8);
  norm1 = new layers.LayerNormalization();
  ffn1 = new layers.Dense(32, { activation: 'relu' });
  ffn2 = new layers.Dense(16);
  norm2 = new layers.LayerNormalization();
  head = new layers.Dense(1);

  override call(inputs: Tensor | Tensor[], options: keras.layers.CallOptions = {}): Tensor {
    const x = this.embed.apply(inputs as Tensor) as Tensor;
    const a = this.attention.apply([x, x], { training: options.training }) as Tensor;
    const h = this.norm1.apply(ops.add(x, a)) as Tensor;
    const f = this.ffn2.apply(this.ffn1.apply(h)) as Tensor;
    const h2 = this.norm2.apply(ops.add(h, f)) as Tensor;
    return this.head.apply(h2) as Tensor;
  }
}

describe('sequence models train with fit', () => {
  it('a subclassed Transformer block learns a task that needs attention (every position predicts the sequence mean)', async () => {
    keras.utils.setRandomSeed(7);
    const n = 128;
    const T = 5;
    const { t: x, v } = uniform([n, T, 2], 5);
    // Target at every position: the mean of feature 0 over the whole sequence.
    const y = new Float32Array(n * T);
    for (let b = 0; b < n; b++) {
      let m = 0;
      for (let s = 0; s < T; s++) m += v[(b * T + s) * 2] / T;
      for (let s = 0; s < T; s++) y[b * T + s] = m;
    }
    const yt = ops.reshape(ops.convertToTensor(y), [n, T, 1]);
    const model = new TinyTransformer();
    model.compile({ optimizer: new keras.optimizers.Adam(0.01), loss: 'mse' });
    const h = await model.fit(x, yt, { epochs: 15, batchSize: 32, verbose: 0 });
    const losses = h.history.loss;
    // Predicting 0 everywhere gives about var(mean) = (1/3)/5 = 0.067.
    expect(losses[losses.length - 1], `losses ${losses.map((l) => l.toFixed(4))}`).toBeLessThan(0.01);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 4);
    expect(model.trainableWeights).toHaveLength(2 + 8 + 2 + 2 + 2 + 2 + 2);
    const pred = (await model.predict(x, { verbose: 0 })) as Tensor;
    expect(pred.shape).toEqual([n, T, 1]);
  });

  it('an LSTM Sequential model learns a running-sum regression', async () => {
    keras.utils.setRandomSeed(3);
    const n = 128;
    const T = 6;
    const { t: x, v } = uniform([n, T, 1], 9);
    const y = new Float32Array(n);
    for (let b = 0; b < n; b++) for (let s = 0; s < T; s++) y[b] += 0.5 * v[b * T + s];
    const model = new keras.Sequential([new layers.LSTM(16, { inputShape: [T, 1] }), new layers.Dense(1)]);
    model.compile({ optimizer: new keras.optimizers.Adam(0.02), loss: 'mse' });
    const h = await model.fit(x, ops.reshape(ops.convertToTensor(y), [n, 1]), { epochs: 12, batchSize: 32, verbose: 0 });
    const losses = h.history.loss;
    // Predicting 0 gives E[y^2] = 0.25 * 6 / 3 = 0.5.
    expect(losses[losses.length - 1], `losses ${losses.map((l) => l.toFixed(4))}`).toBeLessThan(0.02);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 5);
  });

  it('a functional model with Embedding(maskZero) -> Bidirectional(GRU) -> self-attention -> LSTM ignores padding, traces, and round-trips its config', async () => {
    keras.utils.setRandomSeed(11);
    const emb = new layers.Embedding(10, 6, { maskZero: true });
    const bi = new layers.Bidirectional(new layers.GRU(4, { returnSequences: true }));
    const mha = new layers.MultiHeadAttention(2, 4);
    const add = new layers.Add();
    const lstm = new layers.LSTM(5);
    const dense = new layers.Dense(1);
    const build = (T: number) => {
      const inp = keras.Input({ shape: [T], dtype: 'int32' });
      const s = bi.apply(emb.apply(inp)) as Tensor;
      const a = mha.apply([s, s]) as Tensor;
      return new keras.Model({ inputs: inp, outputs: dense.apply(lstm.apply(add.apply([s, a]))) as Tensor });
    };
    const model = build(4);
    const x = ops.convertToTensor([
      [1, 2, 0, 0],
      [3, 4, 5, 0],
      [6, 7, 8, 9],
      [2, 0, 0, 0],
    ]);
    model.compile({ optimizer: new keras.optimizers.Adam(0.01), loss: 'mse' });
    const h = await model.fit(x, ops.convertToTensor([[1], [0], [1], [0]]), { epochs: 2, batchSize: 2, verbose: 0 });
    expect(h.history.loss).toHaveLength(2);
    // Padded steps change nothing: the same layers over the unpadded prefix give the same output.
    const padded = (await model.predict(x, { verbose: 0 })) as Tensor;
    const short = build(2).apply(ops.convertToTensor([[1, 2]])) as Tensor;
    expect(Math.abs(padded.dataSync()[0] - short.dataSync()[0])).toBeLessThan(1e-5);
    // predict (a traced graph) agrees with an eager call.
    const eager = model.apply(x) as Tensor;
    Array.from(eager.dataSync()).forEach((v, i) => expect(Math.abs(v - padded.dataSync()[i])).toBeLessThan(1e-5));
    const clone = keras.Model.fromConfig(model.getConfig());
    clone.setWeights(model.getWeights());
    const again = clone.apply(x) as Tensor;
    Array.from(again.dataSync()).forEach((v, i) => expect(Math.abs(v - eager.dataSync()[i])).toBeLessThan(1e-6));
    expect(clone.layers.map((l) => l.className)).toEqual(['InputLayer', 'Embedding', 'Bidirectional', 'MultiHeadAttention', 'Add', 'LSTM', 'Dense']);
  });
});
