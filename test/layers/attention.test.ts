import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { maskOf } from '../../lib/layers/layer.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';

const { ops, layers } = keras;

// ------------------------------------------------------------ plain-JS reference (Keras 3 MultiHeadAttention)

type N3 = number[][][];

/** Deterministic nested array of `shape` with 0.5 * sin(seed + flat index). */
function fixed(shape: number[], seed: number): any {
  let k = 0;
  const build = (d: number): any => (d === shape.length ? 0.5 * Math.sin(seed + k++) : Array.from({ length: shape[d] }, () => build(d + 1)));
  return build(0);
}

interface MHAWeights {
  Wq: N3; bq: number[][]; Wk: N3; bk: number[][]; Wv: N3; bv: number[][]; Wo: N3; bo: number[];
}

function weights(dim: number, heads: number, keyDim: number, valueDim: number, outDim: number): MHAWeights {
  return {
    Wq: fixed([dim, heads, keyDim], 1),
    bq: fixed([heads, keyDim], 2),
    Wk: fixed([dim, heads, keyDim], 3),
    bk: fixed([heads, keyDim], 4),
    Wv: fixed([dim, heads, valueDim], 5),
    bv: fixed([heads, valueDim], 6),
    Wo: fixed([heads, valueDim, outDim], 7),
    bo: fixed([outDim], 8),
  };
}

/** [T][D] x [D][N][H] + [N][H] -> [T][N][H] */
function project(x: number[][], W: N3, b: number[][]): N3 {
  return x.map((row) => W[0].map((_, n) => W[0][n].map((__, h) => row.reduce((s, v, d) => s + v * W[d][n][h], 0) + b[n][h])));
}

/**
 * out[b][t] = sum_{n,h} ctx[t][n][h] Wo[n][h] + bo, ctx = softmax_s(q·k / sqrt(keyDim), masked) v.
 * mask[b][t][s] false excludes position s; rows with everything masked give zero probabilities.
 */
function refMHA(q: N3, v: N3, k: N3, w: MHAWeights, keyDim: number, mask?: boolean[][][]): { out: N3; scores: number[][][][] } {
  const out: N3 = [];
  const scores: number[][][][] = [];
  q.forEach((qb, b) => {
    const Q = project(qb, w.Wq, w.bq);
    const K = project(k[b], w.Wk, w.bk);
    const V = project(v[b], w.Wv, w.bv);
    const heads = Q[0].length;
    const probs = Array.from({ length: heads }, (_, n) =>
      Q.map((qt, t) => {
        const logits = K.map((ks) => ks[n].reduce((s, kv, h) => s + kv * qt[n][h], 0) / Math.sqrt(keyDim));
        const allowed = logits.map((_, s) => (mask ? mask[b][t][s] : true));
        const m = Math.max(...logits.filter((_, s) => allowed[s]), -Infinity);
        const e = logits.map((l, s) => (allowed[s] ? Math.exp(l - m) : 0));
        const z = e.reduce((a, c) => a + c, 0);
        return e.map((x) => (z === 0 ? 0 : x / z));
      }),
    );
    scores.push(probs);
    out.push(
      Q.map((_, t) => {
        const ctx = probs.map((pn, n) => V[0][n].map((__, h) => pn[t].reduce((s, p, si) => s + p * V[si][n][h], 0)));
        return w.bo.map((bo, e) => bo + ctx.reduce((s, cn, n) => s + cn.reduce((s2, c, h) => s2 + c * w.Wo[n][h][e], 0), 0));
      }),
    );
  });
  return { out, scores };
}

const D = 4;
const HEADS = 2;
const KEY = 3;
const Q: N3 = fixed([2, 3, D], 20);
const V: N3 = fixed([2, 4, D], 30);
const K: N3 = fixed([2, 4, D], 40);

function make(args: Record<string, unknown> = {}, keyGiven = false): keras.layers.MultiHeadAttention {
  const mha = new layers.MultiHeadAttention(HEADS, KEY, args);
  mha.build(keyGiven ? [[null, 3, D], [null, 4, D], [null, 4, D]] : [[null, 3, D], [null, 4, D]]);
  const w = weights(D, HEADS, KEY, KEY, D);
  mha.setWeights([w.Wq, w.bq, w.Wk, w.bk, w.Wv, w.bv, w.Wo, w.bo]);
  return mha;
}

const t = (v: unknown) => ops.convertToTensor(v as number[]);

describe('MultiHeadAttention', () => {
  const w = weights(D, HEADS, KEY, KEY, D);

  it('matches the reference with 2 heads (key defaults to value), and returns scores [B, heads, T, S]', () => {
    const ref = refMHA(Q, V, V, w, KEY);
    const mha = make();
    expectClose(mha.apply([t(Q), t(V)]) as Tensor, ref.out, { shape: [2, 3, D] });
    const [out, scores] = mha.callAttention(t(Q), t(V), null, { returnAttentionScores: true }) as Tensor[];
    expectClose(out, ref.out);
    expectClose(scores, ref.scores, { shape: [2, HEADS, 3, 4] });
    expectClose(ops.sum(scores, -1), new Array(2 * HEADS * 3).fill(1));
  });

  it('uses a separate key when given', () => {
    const ref = refMHA(Q, V, K, w, KEY);
    const mha = make({}, true);
    expectClose(mha.apply([t(Q), t(V), t(K)]) as Tensor, ref.out);
    expectClose(mha.callAttention(t(Q), t(V), t(K)) as Tensor, ref.out);
  });

  it('weights in Keras order and layout', () => {
    const mha = new layers.MultiHeadAttention(2, 3, { valueDim: 5, outputShape: 6 });
    mha.build([[null, 7, 4], [null, 8, 9]]);
    // Variable names are made unique per process (query/kernel_1, ...): compare the base names.
    expect(mha.weights.map((v) => [v.name.replace(/_\d+$/, ''), v.shape])).toEqual([
      ['query/kernel', [4, 2, 3]],
      ['query/bias', [2, 3]],
      ['key/kernel', [9, 2, 3]],
      ['key/bias', [2, 3]],
      ['value/kernel', [9, 2, 5]],
      ['value/bias', [2, 5]],
      ['attention_output/kernel', [2, 5, 6]],
      ['attention_output/bias', [6]],
    ]);
    expect((mha.apply([ops.ones([2, 7, 4]), ops.ones([2, 8, 9])]) as Tensor).shape).toEqual([2, 7, 6]);
    const noBias = new layers.MultiHeadAttention(2, 3, { useBias: false });
    noBias.build([[null, 7, 4], [null, 8, 4]]);
    expect(noBias.weights.map((v) => v.shape)).toEqual([[4, 2, 3], [4, 2, 3], [4, 2, 3], [2, 3, 4]]);
  });

  it('causal mask: position t attends to positions <= t', () => {
    const qs = fixed([2, 3, D], 50);
    const causal = [0, 1].map(() => [0, 1, 2].map((i) => [0, 1, 2].map((j) => j <= i)));
    const ref = refMHA(qs, qs, qs, w, KEY, causal);
    const mha = new layers.MultiHeadAttention(HEADS, KEY);
    mha.build([[null, 3, D], [null, 3, D]]);
    mha.setWeights([w.Wq, w.bq, w.Wk, w.bk, w.Wv, w.bv, w.Wo, w.bo]);
    const [out, scores] = mha.apply([t(qs), t(qs)], { useCausalMask: true, returnAttentionScores: true }) as Tensor[];
    expectClose(out, ref.out);
    expectClose(scores, ref.scores);
    const s = Array.from(scores.dataSync());
    expect(s[1]).toBe(0);
    expect(s[2]).toBe(0);
    expect(s[5]).toBe(0);
  });

  it('attentionMask, value masks from Embedding(maskZero), and fully masked rows', () => {
    const mask = [
      [
        [true, false, true, true],
        [true, true, true, false],
        [false, false, false, false],
      ],
      [
        [true, true, true, true],
        [false, true, false, true],
        [true, false, false, false],
      ],
    ];
    const ref = refMHA(Q, V, V, w, KEY, mask);
    const mha = make();
    const [out, scores] = mha.apply([t(Q), t(V)], { attentionMask: t(mask), returnAttentionScores: true }) as Tensor[];
    expectClose(out, ref.out);
    expectClose(scores, ref.scores);
    // A value mask [B, S] (Keras' value._keras_mask) and-ed with the causal mask.
    const valueMask = [
      [true, true, false, false],
      [true, true, true, false],
    ];
    const combined = [0, 1].map((b) => [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => valueMask[b][j] && j <= i)));
    const ref2 = refMHA(Q, V, V, w, KEY, combined);
    expectClose(mha.apply([t(Q), t(V)], { valueMask: t(valueMask), useCausalMask: true }) as Tensor, ref2.out);
    // The same value mask arriving on the value tensor through an Embedding with maskZero.
    const emb = new layers.Embedding(9, D, { maskZero: true });
    emb.build([null, 4]);
    const table = [new Array(D).fill(0), ...V[0], ...V[1]];
    emb.setWeights([table]);
    const ids = t([
      [1, 2, 0, 0],
      [5, 6, 7, 0],
    ]);
    const vEmb = emb.apply(ids) as Tensor;
    const vRows = [
      [V[0][0], V[0][1], table[0], table[0]],
      [V[1][0], V[1][1], V[1][2], table[0]],
    ];
    const maskOnly = [0, 1].map((b) => [0, 1, 2].map(() => valueMask[b]));
    const outEmb = mha.apply([t(Q), vEmb]) as Tensor;
    expectClose(outEmb, refMHA(Q, vRows, vRows, w, KEY, maskOnly).out);
  });

  it('query mask is and-ed in and passed on as the output mask', () => {
    const emb = new layers.Embedding(7, D, { maskZero: true });
    emb.build([null, 3]);
    const table = [new Array(D).fill(0), ...Q[0], ...Q[1]];
    emb.setWeights([table]);
    const ids = t([
      [1, 2, 0],
      [4, 0, 6],
    ]);
    const q = emb.apply(ids) as Tensor;
    const mha = make();
    const out = mha.apply([q, t(V)]) as Tensor;
    const qRows = [
      [Q[0][0], Q[0][1], table[0]],
      [Q[1][0], table[0], Q[1][2]],
    ];
    const qMask = [
      [true, true, false],
      [true, false, true],
    ];
    const full = [0, 1].map((b) => [0, 1, 2].map((i) => [0, 1, 2, 3].map(() => qMask[b][i])));
    expectClose(out, refMHA(qRows, V, V, w, KEY, full).out);
    expect(Array.from(maskOf(out)!.dataSync())).toEqual([1, 1, 0, 1, 0, 1]);
    const [out2, scores] = mha.apply([q, t(V)], { returnAttentionScores: true }) as Tensor[];
    expect(Array.from(maskOf(out2)!.dataSync())).toEqual([1, 1, 0, 1, 0, 1]);
    expect(maskOf(scores)).toBeUndefined();
  });

  it('attention over two axes (attentionAxes [1, 2]) equals attention over the flattened axes', () => {
    const mha = new layers.MultiHeadAttention(HEADS, KEY, { attentionAxes: [1, 2] });
    const x4 = randomTensor([2, 2, 3, D], 3);
    const x4f = ops.cast(x4, 'float32');
    const y = mha.apply([x4f, x4f]) as Tensor;
    expect(y.shape).toEqual([2, 2, 3, D]);
    const flat = new layers.MultiHeadAttention(HEADS, KEY);
    flat.build([[null, 6, D], [null, 6, D]]);
    flat.setWeights(mha.getWeights());
    const x3 = ops.reshape(x4f, [2, 6, D]);
    expectClose(y, ops.reshape(flat.apply([x3, x3]) as Tensor, [2, 2, 3, D]), { atol: 1e-5 });
    const [, scores] = mha.apply([x4f, x4f], { returnAttentionScores: true }) as Tensor[];
    expect(scores.shape).toEqual([2, HEADS, 2, 3, 2, 3]);
  });

  it('float64 finite-difference gradients through query, value and the weights', () => {
    const mha = new layers.MultiHeadAttention(HEADS, 2, { dtype: 'float64' });
    const q = randomTensor([1, 2, 3], 11);
    const v = randomTensor([1, 3, 3], 12);
    checkGrad((a, b) => mha.apply([a, b], { useCausalMask: false }) as Tensor, [q, v]);
    const mask = t([[[true, false, true], [true, true, false]]]);
    checkGrad((a, b) => mha.apply([a, b], { attentionMask: mask }) as Tensor, [q, v]);
    const ws = mha.weights.map((x, i) => ops.add(x.value, ops.multiply(randomTensor(x.shape, 30 + i), 0.1)));
    const vars = mha.weights;
    checkGrad(
      (...vals: Tensor[]) => {
        vars.forEach((x, i) => Object.defineProperty(x, 'value', { get: () => vals[i + 2], configurable: true }));
        try {
          return mha.apply([vals[0], vals[1]]) as Tensor;
        } finally {
          vars.forEach((x) => delete (x as unknown as Record<string, unknown>).value);
        }
      },
      [q, v, ...ws],
      { argnums: ws.map((_, i) => i + 2) },
    );
  });

  it('dropout on the attention probabilities only in training', () => {
    const mha = make({ dropout: 0.5, seed: 1 });
    const ref = refMHA(Q, V, V, w, KEY);
    expectClose(mha.apply([t(Q), t(V)]) as Tensor, ref.out);
    const train = mha.apply([t(Q), t(V)], { training: true }) as Tensor;
    expect(Array.from(train.dataSync())).not.toEqual(Array.from((mha.apply([t(Q), t(V)]) as Tensor).dataSync()));
  });

  it('traces with an unknown batch and differentiates in the graph', () => {
    const mha = make();
    const spec = [{ shape: [null, 3, D], dtype: 'float32' as const }, { shape: [null, 4, D], dtype: 'float32' as const }];
    const g = keras.trace((a: Tensor, b: Tensor) => mha.apply([a, b], { useCausalMask: true }) as Tensor, spec);
    expect(g.outputs[0].shape).toEqual([null, 3, D]);
    const dg = keras.trace((a: Tensor, b: Tensor) => keras.grad((x: Tensor) => ops.sum(mha.apply([x, b]) as Tensor))(a) as Tensor, spec);
    expect(dg.outputs[0].shape).toEqual([null, 3, D]);
  });

  it('getConfig -> fromConfig round trip', () => {
    const mha = new layers.MultiHeadAttention(4, 8, { valueDim: 6, dropout: 0.1, outputShape: [5], attentionAxes: 1, useBias: false, name: 'mha_cfg' });
    const config = mha.getConfig();
    expect(config).toMatchObject({ numHeads: 4, keyDim: 8, valueDim: 6, dropout: 0.1, outputShape: [5], attentionAxes: [1], useBias: false });
    expect(layers.MultiHeadAttention.fromConfig(config).getConfig()).toEqual(config);
    expect(new layers.MultiHeadAttention(2, 3).valueDim).toBe(3);
  });

  it('raises Keras-style errors naming the layer and shapes', () => {
    expect(() => new layers.MultiHeadAttention(0, 3)).toThrow(/numHeads must be a positive integer, received 0/);
    const mha = new layers.MultiHeadAttention(2, 3, { name: 'mha_err' });
    expect(() => mha.apply(ops.ones([2, 3, 4]))).toThrow(/mha_err.*\[query, value\].*\(2, 3, 4\)/);
    expect(() => mha.apply([ops.ones([2, 3, 4]), ops.ones([2, 3])])).toThrow(/Input 1 of layer "mha_err" is incompatible.*received shape \(2, 3\)/);
    const m2 = new layers.MultiHeadAttention(2, 3, { name: 'mha_err2' });
    expect(() => m2.apply([ops.ones([2, 3, 4]), ops.ones([2, 5, 4]), ops.ones([2, 6, 4])])).toThrow(/mha_err2.*value and key, except the last one, must be equal.*\(2, 5, 4\).*\(2, 6, 4\)/);
    const m3 = make();
    expect(() => m3.apply([ops.ones([2, 3, 5]), ops.ones([2, 4, D])])).toThrow(/Input 0 of layer ".*" is incompatible.*axis -1 of value 4.*received shape \(2, 3, 5\)/);
  });
});
