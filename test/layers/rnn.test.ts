import { describe, expect, it, vi } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { getBackend } from '../../lib/engine.js';
import { maskOf } from '../../lib/layers/layer.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
import { nativeUnavailableReason } from '../parity/harness.js';

const { ops, layers } = keras;

// ------------------------------------------------------------ plain-JS reference (Keras formulas)

type Vec = number[];
type Mat = number[][];
type Kind = 'simple' | 'lstm' | 'gru' | 'gru_before';

/** Deterministic small weights: 0.5 * sin(seed + index). */
function fixed(rows: number, cols: number, seed: number): Mat {
  return Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => 0.5 * Math.sin(seed + i * cols + j)));
}
const vecMat = (v: Vec, m: Mat): Vec => m[0].map((_, j) => v.reduce((s, vi, i) => s + vi * m[i][j], 0));
const add = (a: Vec, b: Vec): Vec => a.map((v, i) => v + b[i]);
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const part = (v: Vec, g: number, u: number) => v.slice(g * u, (g + 1) * u);

interface RefWeights {
  W: Mat;
  U: Mat;
  /** [gates*u], or [2][3u] for GRU resetAfter. */
  b: Vec | Mat;
}

function refStep(kind: Kind, u: number, w: RefWeights, x: Vec, states: Vec[]): Vec[] {
  const h = states[0];
  if (kind === 'simple') return [add(add(vecMat(x, w.W), vecMat(h, w.U)), w.b as Vec).map(Math.tanh)];
  if (kind === 'lstm') {
    const z = add(add(vecMat(x, w.W), vecMat(h, w.U)), w.b as Vec);
    const i = part(z, 0, u).map(sig);
    const f = part(z, 1, u).map(sig);
    const g = part(z, 2, u).map(Math.tanh);
    const o = part(z, 3, u).map(sig);
    const c = f.map((fk, k) => fk * states[1][k] + i[k] * g[k]);
    return [o.map((ok, k) => ok * Math.tanh(c[k])), c];
  }
  if (kind === 'gru') {
    const [b0, b1] = w.b as Mat;
    const xz = add(vecMat(x, w.W), b0);
    const inner = add(vecMat(h, w.U), b1);
    const z = add(part(xz, 0, u), part(inner, 0, u)).map(sig);
    const r = add(part(xz, 1, u), part(inner, 1, u)).map(sig);
    const hh = part(xz, 2, u).map((v, k) => Math.tanh(v + r[k] * part(inner, 2, u)[k]));
    return [z.map((zk, k) => zk * h[k] + (1 - zk) * hh[k])];
  }
  // GRU with resetAfter=false: the reset gate scales h before the recurrent matmul.
  const xz = add(vecMat(x, w.W), w.b as Vec);
  const hu = vecMat(h, w.U);
  const z = add(part(xz, 0, u), part(hu, 0, u)).map(sig);
  const r = add(part(xz, 1, u), part(hu, 1, u)).map(sig);
  const uh = w.U.map((row) => row.slice(2 * u));
  const rh = vecMat(r.map((rk, k) => rk * h[k]), uh);
  const hh = part(xz, 2, u).map((v, k) => Math.tanh(v + rh[k]));
  return [z.map((zk, k) => zk * h[k] + (1 - zk) * hh[k])];
}

interface RefResult {
  /** [batch][step][units], in processing order (reversed time with goBackwards, as Keras). */
  seq: number[][][];
  last: Mat;
  states: Mat[];
}

/** Runs a recurrent layer over x[batch][time][features] the way Keras does, with masks and goBackwards. */
function refRNN(kind: Kind, u: number, w: RefWeights, x: number[][][], o: { goBackwards?: boolean; mask?: boolean[][]; initial?: Mat[]; zeroOutput?: boolean } = {}): RefResult {
  const nStates = kind === 'lstm' ? 2 : 1;
  const seq: number[][][] = [];
  const last: Mat = [];
  const finals: Mat[] = Array.from({ length: nStates }, () => []);
  x.forEach((sample, bi) => {
    let states = Array.from({ length: nStates }, (_, s) => o.initial?.[s][bi] ?? new Array(u).fill(0));
    let prevOut = new Array(u).fill(0);
    const outs: Mat = [];
    const order = sample.map((_, t) => t);
    if (o.goBackwards) order.reverse();
    for (const t of order) {
      if (o.mask && !o.mask[bi][t]) {
        if (o.zeroOutput) prevOut = new Array(u).fill(0);
        outs.push(prevOut);
        continue;
      }
      states = refStep(kind, u, w, sample[t], states);
      prevOut = states[0];
      outs.push(prevOut);
    }
    seq.push(outs);
    last.push(prevOut);
    states.forEach((s, k) => finals[k].push(s));
  });
  return { seq, last, states: finals };
}

const X: number[][][] = [
  [
    [0.5, -1.0],
    [1.5, 0.25],
    [-0.75, 2.0],
  ],
  [
    [-1.0, 0.5],
    [0.0, -0.5],
    [2.0, 1.0],
  ],
];
const x = () => ops.convertToTensor(X);
const U = 3;

function weightsFor(kind: Kind): RefWeights {
  const gates = kind === 'simple' ? 1 : kind === 'lstm' ? 4 : 3;
  const W = fixed(2, gates * U, 1);
  const Ur = fixed(U, gates * U, 2);
  const b = kind === 'gru' ? fixed(2, 3 * U, 3) : fixed(1, gates * U, 3)[0];
  return { W, U: Ur, b };
}

type RNNLayer = keras.layers.SimpleRNN | keras.layers.LSTM | keras.layers.GRU;

function make(kind: Kind, args: Record<string, unknown> = {}): RNNLayer {
  const layer =
    kind === 'simple'
      ? new layers.SimpleRNN(U, args)
      : kind === 'lstm'
        ? new layers.LSTM(U, args)
        : new layers.GRU(U, { ...args, resetAfter: kind === 'gru' });
  layer.build([null, 3, 2]);
  const w = weightsFor(kind);
  layer.setWeights([w.W, w.U, w.b]);
  return layer;
}

const KINDS: Kind[] = ['simple', 'lstm', 'gru', 'gru_before'];

/** Runs fn with the layer's weights read from the given tensors (so gradients reach them). */
function withWeights<T>(layer: keras.layers.Layer, values: Tensor[], fn: () => T): T {
  const vars = layer.weights;
  vars.forEach((v, i) => Object.defineProperty(v, 'value', { get: () => values[i], configurable: true }));
  try {
    return fn();
  } finally {
    vars.forEach((v) => delete (v as unknown as Record<string, unknown>).value);
  }
}

// ------------------------------------------------------------ tests

describe.each(KINDS)('%s recurrent layer vs the Keras formulas', (kind) => {
  const w = weightsFor(kind);

  it('last output over 3 timesteps', () => {
    const ref = refRNN(kind, U, w, X);
    const y = make(kind).apply(x()) as Tensor;
    expectClose(y, ref.last, { shape: [2, U] });
  });

  it('returnSequences and returnState give [sequence, ...states]', () => {
    const ref = refRNN(kind, U, w, X);
    const out = make(kind, { returnSequences: true, returnState: true }).apply(x()) as Tensor[];
    expect(out).toHaveLength(kind === 'lstm' ? 3 : 2);
    expectClose(out[0], ref.seq, { shape: [2, 3, U] });
    ref.states.forEach((s, i) => expectClose(out[i + 1], s, { shape: [2, U] }));
  });

  it('goBackwards runs over reversed time and returns outputs in processing order', () => {
    const ref = refRNN(kind, U, w, X, { goBackwards: true });
    const y = make(kind, { goBackwards: true, returnSequences: true }).apply(x()) as Tensor;
    expectClose(y, ref.seq);
    const forward = refRNN(kind, U, w, X);
    expect(Math.abs(ref.last[0][0] - forward.last[0][0])).toBeGreaterThan(1e-3);
  });

  it('masked timesteps carry the previous state and output', () => {
    const mask = [
      [true, false, true],
      [false, true, true],
    ];
    const ref = refRNN(kind, U, w, X, { mask });
    const layer = make(kind, { returnSequences: true, returnState: true });
    const out = layer.apply(x(), { mask: ops.convertToTensor(mask) }) as Tensor[];
    expectClose(out[0], ref.seq);
    ref.states.forEach((s, i) => expectClose(out[i + 1], s));
    // Sample 1 starts masked: its first output is zeros.
    expect(Array.from(out[0].dataSync()).slice(9, 12)).toEqual([0, 0, 0]);
    // Backward with a mask: the mask is reversed with the inputs.
    const back = refRNN(kind, U, w, X, { mask, goBackwards: true });
    expectClose(make(kind, { goBackwards: true }).apply(x(), { mask: ops.convertToTensor(mask) }) as Tensor, back.last);
  });

  it('zeroOutputForMask: masked steps output zeros, states still carried', () => {
    const mask = [
      [true, true, false],
      [false, true, true],
    ];
    const ref = refRNN(kind, U, w, X, { mask, zeroOutput: true });
    const out = make(kind, { returnSequences: true, returnState: true, zeroOutputForMask: true }).apply(x(), { mask: ops.convertToTensor(mask) }) as Tensor[];
    expectClose(out[0], ref.seq);
    ref.states.forEach((s, i) => expectClose(out[i + 1], s));
  });

  it('initialState option sets the starting states', () => {
    const n = kind === 'lstm' ? 2 : 1;
    const initial = Array.from({ length: n }, (_, s) => fixed(2, U, 10 + s));
    const ref = refRNN(kind, U, w, X, { initial });
    const layer = make(kind);
    expectClose(layer.apply(x(), { initialState: initial.map((m) => ops.convertToTensor(m)) }) as Tensor, ref.last);
    // Keras also accepts [x, ...states] as the inputs.
    expectClose(layer.apply([x(), ...initial.map((m) => ops.convertToTensor(m))]) as Tensor, ref.last);
    expect(() => layer.apply(x(), { initialState: [ops.zeros([2, U]), ops.zeros([2, U]), ops.zeros([2, U])] })).toThrow(/initial state/);
  });

  it('float64 finite-difference gradients w.r.t. inputs and weights', () => {
    const layer = make(kind, { dtype: 'float64', returnSequences: true });
    const xs = randomTensor([2, 3, 2], 5);
    checkGrad((t) => layer.apply(t) as Tensor, [xs]);
    const ws = layer.weights.map((v, i) => ops.add(ops.cast(v.value, 'float64'), ops.multiply(randomTensor(v.shape, 20 + i), 0.1)));
    checkGrad((t, k, r, b) => withWeights(layer, [k, r, b], () => layer.apply(t) as Tensor), [xs, ...ws]);
  });

  it('masked gradients: no gradient reaches masked inputs', () => {
    const layer = make(kind, { dtype: 'float64' });
    const mask = ops.convertToTensor([
      [true, true, false],
      [true, false, true],
    ]);
    const xs = randomTensor([2, 3, 2], 9);
    checkGrad((t) => layer.apply(t, { mask }) as Tensor, [xs]);
    const g = keras.grad((t: Tensor) => ops.sum(layer.apply(t, { mask }) as Tensor))(xs) as Tensor;
    const gv = Array.from(g.dataSync());
    expect(gv.slice(4, 6)).toEqual([0, 0]);
    expect(gv.slice(8, 10)).toEqual([0, 0]);
  });

  it('getConfig -> fromConfig round trip', () => {
    const layer = make(kind, { returnSequences: true, goBackwards: true, dropout: 0.25, recurrentDropout: 0.1, name: `cfg_${kind}` });
    const config = layer.getConfig();
    const cls = layer.constructor as typeof keras.layers.Layer;
    const clone = cls.fromConfig(config);
    expect(clone.getConfig()).toEqual(config);
    expect(config).toMatchObject({ units: U, returnSequences: true, returnState: false, goBackwards: true, stateful: false, dropout: 0.25, recurrentDropout: 0.1 });
  });
});

describe('recurrent layer details', () => {
  it('weight shapes, names and Keras defaults (unitForgetBias, GRU bias [2, 3u])', () => {
    const lstm = new layers.LSTM(4);
    lstm.build([null, 5, 3]);
    expect(lstm.weights.map((v) => v.shape)).toEqual([
      [3, 16],
      [4, 16],
      [16],
    ]);
    expect(lstm.weights.map((v) => v.name.split('/')[1])).toEqual(['kernel', 'recurrent_kernel', 'bias']);
    expect(Array.from(lstm.weights[2].value.dataSync())).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    // The recurrent kernel is orthogonal by default: U^T U = I for each gate block's columns jointly.
    const rk = lstm.weights[1].value;
    expectClose(ops.matmul(rk, ops.transpose(rk)), ops.eye(4), { atol: 1e-5 });
    const noForget = new layers.LSTM(2, { unitForgetBias: false });
    noForget.build([null, 2, 1]);
    expect(Array.from(noForget.weights[2].value.dataSync())).toEqual(new Array(8).fill(0));
    const gru = new layers.GRU(2);
    gru.build([null, 2, 3]);
    expect(gru.weights.map((v) => v.shape)).toEqual([[3, 6], [2, 6], [2, 6]]);
    expect(gru.resetAfter).toBe(true);
    const gruOld = new layers.GRU({ units: 2, resetAfter: false, useBias: false });
    gruOld.build([null, 2, 3]);
    expect(gruOld.weights.map((v) => v.shape)).toEqual([[3, 6], [2, 6]]);
    const s = new layers.SimpleRNN(5);
    expect(s.getConfig()).toMatchObject({ activation: 'tanh', useBias: true, returnSequences: false, unroll: false });
  });

  it('useBias false matches the reference with a zero bias', () => {
    const w = weightsFor('lstm');
    const layer = new layers.LSTM(U, { useBias: false });
    layer.build([null, 3, 2]);
    layer.setWeights([w.W, w.U]);
    expectClose(layer.apply(x()) as Tensor, refRNN('lstm', U, { ...w, b: new Array(4 * U).fill(0) }, X).last);
  });

  it('takes the mask from Embedding(maskZero) and passes it on with returnSequences', () => {
    const emb = new layers.Embedding(5, 2, { maskZero: true });
    emb.build([null, 3]);
    const table = [
      [0, 0],
      [0.5, -1.0],
      [1.5, 0.25],
      [-0.75, 2.0],
      [2.0, 1.0],
    ];
    emb.setWeights([table]);
    const ids = ops.convertToTensor([
      [1, 0, 3],
      [0, 2, 4],
    ]);
    const seqIn = [
      [table[1], table[0], table[3]],
      [table[0], table[2], table[4]],
    ];
    const mask = [
      [true, false, true],
      [false, true, true],
    ];
    const rnn = make('gru', { returnSequences: true });
    const y = rnn.apply(emb.apply(ids)) as Tensor;
    expectClose(y, refRNN('gru', U, weightsFor('gru'), seqIn, { mask }).seq);
    expect(Array.from(maskOf(y)!.dataSync())).toEqual([1, 0, 1, 0, 1, 1]);
    expect(maskOf(rnn.apply(emb.apply(ids)) as Tensor)).toBeDefined();
    expect(maskOf(make('gru').apply(emb.apply(ids)) as Tensor)).toBeUndefined();
    const next = new layers.SimpleRNN(2);
    const z = next.apply(y) as Tensor;
    expect(z.shape).toEqual([2, 2]);
  });

  it('dropout and recurrentDropout apply only in training, with one mask per sequence', () => {
    const layer = make('simple', { dropout: 0.5, recurrentDropout: 0.5, seed: 3 });
    const inference = layer.apply(x()) as Tensor;
    expectClose(inference, refRNN('simple', U, weightsFor('simple'), X).last);
    const train = layer.apply(x(), { training: true }) as Tensor;
    expect(train.shape).toEqual([2, U]);
    expect(Array.from(train.dataSync())).not.toEqual(Array.from(inference.dataSync()));
    // Input dropout alone equals the reference on x times a per-sequence mask over features.
    const drop = make('simple', { dropout: 0.5, seed: 4 });
    const seqs = drop.apply(ops.ones([64, 3, 2]), { training: true }) as Tensor;
    const vals = Array.from(seqs.dataSync());
    // With x all ones the only randomness is which feature survives; 4 patterns -> at most 4 distinct rows.
    const rows = new Set<string>();
    for (let b = 0; b < 64; b++) rows.add(vals.slice(b * U, (b + 1) * U).map((v) => v.toFixed(5)).join(','));
    expect(rows.size).toBeLessThanOrEqual(4);
    expect(rows.size).toBeGreaterThan(1);
  });

  it.each([['lstm', 'lstmSequence'], ['gru', 'gruSequence']] as const)('%s with sigmoid and tanh runs a fused op (%s), with the values and gradients of the cell built from ops', (kind, cellOp) => {
    // The same activations as functions of their own: not the registry's, so the cell is built from ops.
    const unfused = make(kind, { dtype: 'float64', returnSequences: true, recurrentActivation: (v: Tensor) => ops.sigmoid(v), activation: (v: Tensor) => ops.tanh(v) });
    const fused = make(kind, { dtype: 'float64', returnSequences: true });
    const opsOf = (layer: keras.layers.Layer) =>
      new Set(keras.trace((t: Tensor) => layer.apply(t) as Tensor, [{ shape: [null, 3, 2], dtype: 'float64' }]).nodes.map((n) => n.op.name));
    expect(opsOf(fused).has(cellOp)).toBe(true);
    expect(opsOf(unfused).has(cellOp)).toBe(false);
    const xs = randomTensor([4, 3, 2], 31);
    expectClose(fused.apply(xs) as Tensor, unfused.apply(xs) as Tensor, { rtol: 1e-12, atol: 1e-12 });
    // Gradients w.r.t. the input and every weight, through a loss that weighs each output differently.
    const w = randomTensor([4, 3, U], 32);
    const grads = (layer: keras.layers.Layer) =>
      keras.grad((t: Tensor, k: Tensor, r: Tensor, b: Tensor) => withWeights(layer, [k, r, b], () => ops.sum(ops.multiply(layer.apply(t) as Tensor, w))), [0, 1, 2, 3])(
        xs,
        ...layer.weights.map((v) => v.value),
      ) as Tensor[];
    const [got, want] = [grads(fused), grads(unfused)];
    want.forEach((g, i) => expectClose(got[i]!, g, { rtol: 1e-12, atol: 1e-12 }));
  });

  it('traces with an unknown batch and differentiates in the graph', () => {
    for (const kind of KINDS) {
      const layer = make(kind, { returnSequences: true });
      const graph = keras.trace((t: Tensor) => layer.apply(t) as Tensor, [{ shape: [null, 3, 2], dtype: 'float32' }]);
      expect(graph.outputs[0].shape).toEqual([null, 3, U]);
      const lossGrad = keras.trace(
        (t: Tensor) => keras.grad((v: Tensor) => ops.sum(layer.apply(v) as Tensor))(t) as Tensor,
        [{ shape: [null, 3, 2], dtype: 'float32' }],
      );
      expect(lossGrad.outputs[0].shape).toEqual([null, 3, 2]);
    }
  });

  it.each(nativeUnavailableReason() === null ? ['js', 'cpu'] : ['js'])('keeps memory flat under tidy on %s (training with dropout, gradients, Bidirectional, fused sequences)', (backend) => {
    keras.config.setBackend(backend);
    try {
      const xs = ops.ones([2, 4, 3]);
      const lstm = new layers.LSTM(3, { dropout: 0.2, recurrentDropout: 0.2, returnSequences: true });
      const bid = new layers.Bidirectional(new layers.GRU(2));
      // No recurrent dropout: whole sequences in one kernel, with and without saved activations.
      const fused = [new layers.LSTM(3, { returnSequences: true, returnState: true }), new layers.GRU(3, { returnState: true })];
      const run = () =>
        keras.tidy(() => {
          lstm.apply(xs, { training: true });
          bid.apply(xs, { training: true });
          keras.grad((v: Tensor) => ops.sum(lstm.apply(v) as Tensor))(xs);
          for (const layer of fused) {
            layer.apply(xs);
            keras.grad((v: Tensor) => ops.sum((layer.apply(v) as Tensor[])[1]!))(xs);
          }
        });
      run();
      const before = keras.memory();
      run();
      run();
      expect(keras.memory().numTensors).toBe(before.numTensors);
      expect(keras.memory().numBytes).toBe(before.numBytes);
    } finally {
      keras.config.setBackend('js');
    }
  });

  it('raises Keras-style errors naming the layer and shapes', () => {
    expect(() => new layers.LSTM(4, { stateful: true })).toThrow(/stateful=true is not supported/);
    expect(() => new layers.GRU(0)).toThrow(/GRU: units must be a positive integer, received 0/);
    expect(() => new layers.SimpleRNN(2, { dropout: 2 })).toThrow(/dropout must be in \[0, 1\]/);
    const rnn = new layers.SimpleRNN(2, { name: 'rnn_err' });
    expect(() => rnn.apply(ops.ones([2, 3]))).toThrow(/Input 0 of layer "rnn_err" is incompatible with the layer: expected ndim=3.*received shape \(2, 3\)/);
    rnn.apply(ops.ones([2, 3, 4]));
    expect(() => rnn.apply(ops.ones([2, 3, 5]))).toThrow(/Input 0 of layer "rnn_err" is incompatible with the layer: expected axis -1 of input shape to have value 4, received shape \(2, 3, 5\)/);
    expect(() => keras.trace((t: Tensor) => rnn.apply(t) as Tensor, [{ shape: [null, null, 4], dtype: 'float32' }])).toThrow(/rnn_err.*timesteps must be known.*\(None, None, 4\)/);
    expect(() => rnn.apply(ops.ones([2, 3, 4]), { mask: ops.ones([2, 4], 'bool') })).toThrow(/rnn_err.*mask must have shape \[batch, 3\], received \(2, 4\)/);
  });
});

describe('the whole sequence in one fused kernel', () => {
  const backends = nativeUnavailableReason() === null ? ['js', 'cpu'] : ['js'];

  /**
   * The layer's outputs, the kernels it ran on `backend`, and with `tape` the gradients of a
   * weighted sum of its outputs w.r.t. the input, the initial states and the weights. `stepped`:
   * an all-true mask, which keeps a cell per timestep (the reference).
   */
  function run(backend: string, layer: RNNLayer, input: number[][][], options: Record<string, unknown>, mode: { tape?: boolean; stepped?: boolean }, dtype: keras.DType = 'float32') {
    keras.config.setBackend(backend);
    const be = getBackend(backend);
    const spy = vi.spyOn(be, 'kernel');
    try {
      return keras.tidy(() => {
        const t = ops.convertToTensor(input, dtype);
        const initial = (options.initialState as number[][][] | undefined)?.map((s) => ops.convertToTensor(s, dtype));
        const mask = mode.stepped ? ops.ones([input.length, input[0]!.length], 'bool') : undefined;
        if (!layer.built) layer.build(t.shape);
        const tape = mode.tape ? new keras.GradientTape({ persistent: true }) : null;
        const sources = [t, ...(initial ?? []), ...layer.weights.map((v) => v.value)];
        const outs = (tape ? tape.record(() => (tape.watch(...sources), layer.apply(t, { ...options, initialState: initial, mask }))) : layer.apply(t, { ...options, initialState: initial, mask })) as Tensor | Tensor[];
        const list = Array.isArray(outs) ? outs : [outs];
        const outputs = list.map((o) => ({ shape: o.shape, values: Array.from(o.dataSync()) }));
        let grads: Tensor[] = [];
        if (tape) {
          // Each output weighted differently, so every output's gradient path counts.
          const loss = tape.record(() => list.map((o, i) => ops.sum(ops.multiply(o, ops.reshape(ops.sin(ops.arange(i, i + o.size, 1, o.dtype)), o.shape as number[])))).reduce((a, b) => ops.add(a, b)));
          grads = tape.gradient(loss, sources);
        }
        const kernels = spy.mock.calls.map((c) => c[0]);
        return { outputs, grads: grads.map((g) => Array.from(g.dataSync())), kernels, count: (op: string) => kernels.filter((k) => k === op).length };
      });
    } finally {
      spy.mockRestore();
      keras.config.setBackend('js');
    }
  }

  const input = (batch: number, steps: number, features: number, seed: number) => (randomTensor([batch, steps, features], seed).arraySync() as number[][][]);
  const cases: { name: string; make: () => RNNLayer; batch: number; steps: number; options?: Record<string, unknown>; dtype?: keras.DType }[] = [
    { name: 'LSTM, sequences and states', make: () => new layers.LSTM(5, { returnSequences: true, returnState: true }), batch: 3, steps: 6 },
    { name: 'LSTM, backwards from given states', make: () => new layers.LSTM(5, { goBackwards: true }), batch: 2, steps: 4, options: { initialState: [[[0.5, -1, 0, 2, 0.25], [1, 1, -1, 0, 0]], [[0, 0.5, 1, -2, 3], [0.1, 0.2, 0.3, 0.4, 0.5]]] } },
    { name: 'LSTM(128) over threads', make: () => new layers.LSTM(128, { returnState: true }), batch: 40, steps: 3 },
    { name: 'LSTM, float64', make: () => new layers.LSTM(4, { returnSequences: true, dtype: 'float64' }), batch: 2, steps: 5, dtype: 'float64' },
    { name: 'GRU, sequences and states', make: () => new layers.GRU(5, { returnSequences: true, returnState: true }), batch: 3, steps: 6 },
    { name: 'GRU without a bias, backwards', make: () => new layers.GRU(5, { useBias: false, goBackwards: true }), batch: 2, steps: 4 },
    { name: 'GRU(128) over threads', make: () => new layers.GRU(128, { returnSequences: true }), batch: 40, steps: 3 },
  ];

  for (const backend of backends) {
    it.each(cases)(`${backend}: $name: one kernel call, the values of a cell per timestep`, ({ make, batch, steps, options = {}, dtype = 'float32' }) => {
      const layer = make();
      const x = input(batch, steps, 4, batch + steps);
      const fused = run(backend, layer, x, options, {}, dtype);
      const stepped = run(backend, layer, x, options, { stepped: true }, dtype);
      const [sequence, cell] = layer instanceof layers.LSTM ? ['lstmSequence', 'lstmCell'] : ['gruSequence', 'gruCell'];
      expect(fused.count(sequence), `${sequence} kernels in ${fused.kernels.join(', ')}`).toBe(1);
      expect(fused.count(cell), 'cell kernels of the fused run').toBe(0);
      expect(stepped.count(cell), 'cell kernels of the masked run').toBe(steps);
      expect(stepped.count(sequence)).toBe(0);
      expect(fused.outputs.map((o) => o.shape)).toEqual(stepped.outputs.map((o) => o.shape));
      // The same kernels in the same order (the product as matmul runs it, then the cell): bit-identical.
      fused.outputs.forEach((o, i) => expect(o.values, `output ${i}`).toEqual(stepped.outputs[i]!.values));
    });

    it.each(cases)(`${backend}: $name: under a GradientTape one sequence and one gradient kernel, the gradients of a cell per timestep`, ({ make, batch, steps, options = {}, dtype = 'float32' }) => {
      const layer = make();
      const x = input(batch, steps, 4, batch + steps + 1);
      const fused = run(backend, layer, x, options, { tape: true }, dtype);
      const stepped = run(backend, layer, x, options, { tape: true, stepped: true }, dtype);
      const [sequence, cell] = layer instanceof layers.LSTM ? ['lstmSequence', 'lstmCell'] : ['gruSequence', 'gruCell'];
      expect([fused.count(sequence), fused.count(`${sequence}Grad`), fused.count(cell)]).toEqual([1, 1, 0]);
      expect(stepped.count(cell)).toBe(steps);
      fused.outputs.forEach((o, i) => expect(o.values, `output ${i}`).toEqual(stepped.outputs[i]!.values));
      // Sums in other orders (the recurrent kernel's over all steps in one product): close, not equal.
      const tol = dtype === 'float64' ? 1e-12 : 2e-5;
      expect(fused.grads).toHaveLength(stepped.grads.length);
      fused.grads.forEach((g, i) => {
        const want = stepped.grads[i]!;
        const scale = Math.max(1e-3, ...want.map(Math.abs));
        const worst = g.reduce((m, v, j) => Math.max(m, Math.abs(v - want[j]!)), 0);
        expect(worst, `gradient ${i}: largest difference against the cells' (scale ${scale})`).toBeLessThanOrEqual(tol * scale);
      });
    });
  }

  it.each(backends)('%s: a graph traced for inference holds one sequence op, runs to the eager values, and has no gradient', (backend) => {
    keras.config.setBackend(backend);
    try {
      keras.tidy(() => {
        const layer = new layers.GRU(5, { returnSequences: true });
        const x = ops.convertToTensor(input(3, 4, 4, 5));
        const eager = Array.from((layer.apply(x) as Tensor).dataSync());
        const fn = (t: Tensor) => layer.apply(t) as Tensor;
        const specs = [{ shape: [null, 4, 4], dtype: 'float32' as const }];
        const inference = keras.trace(fn, specs, { inference: true });
        const differentiable = keras.trace(fn, specs);
        const count = (g: keras.Graph, op: string) => g.nodes.filter((n) => n.op.name === op).length;
        expect([count(inference, 'gruSequence'), count(inference, 'gruCell')]).toEqual([1, 0]);
        expect([count(differentiable, 'gruSequence'), count(differentiable, 'gruCell')]).toEqual([1, 0]);
        expect(() => keras.ir.differentiate(inference)).toThrow(/gruSequence: run without saveActivations \(inference\), it kept nothing to differentiate/);
        expect(Array.from(keras.ir.run(inference, [x])[0]!.dataSync()), 'the graph evaluated op by op').toEqual(eager);
        const exe = getBackend(backend).compile(inference);
        try {
          expect(Array.from(exe.runSync([x])[0]!.dataSync()), 'the compiled graph').toEqual(eager);
        } finally {
          exe.dispose();
        }
      });
    } finally {
      keras.config.setBackend('js');
    }
  });

  it('a mask or training recurrent dropout keeps the cell per timestep', () => {
    const layer = new layers.LSTM(3, { recurrentDropout: 0.5 });
    const x = input(2, 3, 4, 9);
    const masked = run('js', layer, x, {}, { stepped: true });
    expect([masked.count('lstmCell'), masked.count('lstmSequence')]).toEqual([3, 0]);
    const training = run('js', layer, x, { training: true }, {});
    expect([training.count('lstmCell'), training.count('lstmSequence')]).toEqual([3, 0]);
    expect(run('js', layer, x, {}, {}).count('lstmSequence')).toBe(1);
    expect(run('js', new layers.LSTM(3, { dropout: 0.5 }), x, { training: true }, {}).count('lstmSequence'), 'input dropout, drawn before the steps').toBe(1);
  });
});

describe('Bidirectional', () => {
  const w = weightsFor('lstm');

  function bi(mergeMode: keras.layers.MergeMode, args: Record<string, unknown> = {}): keras.layers.Bidirectional {
    const layer = new layers.Bidirectional(new layers.LSTM(U, args), { mergeMode });
    layer.build([null, 3, 2]);
    const wb = { W: fixed(2, 4 * U, 5), U: fixed(U, 4 * U, 6), b: fixed(1, 4 * U, 7)[0] };
    layer.setWeights([w.W, w.U, w.b, wb.W, wb.U, wb.b]);
    return layer;
  }
  const wb = { W: fixed(2, 4 * U, 5), U: fixed(U, 4 * U, 6), b: fixed(1, 4 * U, 7)[0] };

  it('concat of forward and backward (backward sequence flipped back in time)', () => {
    const f = refRNN('lstm', U, w, X);
    const b = refRNN('lstm', U, wb, X, { goBackwards: true });
    const layer = bi('concat', { returnSequences: true });
    expect(layer.forwardLayer.name).toMatch(/^forward_lstm/);
    expect(layer.backwardLayer.name).toMatch(/^backward_lstm/);
    expect(layer.backwardLayer.goBackwards).toBe(true);
    const y = layer.apply(x()) as Tensor;
    const want = f.seq.map((s, bi_) => s.map((row, t) => [...row, ...b.seq[bi_][2 - t]]));
    expectClose(y, want, { shape: [2, 3, 2 * U] });
    const last = bi('concat').apply(x()) as Tensor;
    expectClose(last, f.last.map((row, i) => [...row, ...b.last[i]]), { shape: [2, 2 * U] });
  });

  it('sum, mul, ave, null merge modes and returnState', () => {
    const f = refRNN('lstm', U, w, X);
    const b = refRNN('lstm', U, wb, X, { goBackwards: true });
    expectClose(bi('sum').apply(x()) as Tensor, f.last.map((r, i) => r.map((v, k) => v + b.last[i][k])));
    expectClose(bi('mul').apply(x()) as Tensor, f.last.map((r, i) => r.map((v, k) => v * b.last[i][k])));
    expectClose(bi('ave').apply(x()) as Tensor, f.last.map((r, i) => r.map((v, k) => (v + b.last[i][k]) / 2)));
    const both = bi(null).apply(x()) as Tensor[];
    expectClose(both[0], f.last);
    expectClose(both[1], b.last);
    const withState = bi('sum', { returnState: true }).apply(x()) as Tensor[];
    expect(withState).toHaveLength(5);
    expectClose(withState[1], f.states[0]);
    expectClose(withState[2], f.states[1]);
    expectClose(withState[3], b.states[0]);
    expectClose(withState[4], b.states[1]);
  });

  it('masks both directions; gradient check; config round trip; errors', () => {
    const mask = [
      [true, true, false],
      [true, true, true],
    ];
    const f = refRNN('lstm', U, w, X, { mask });
    const b = refRNN('lstm', U, wb, X, { mask, goBackwards: true });
    expectClose(bi('sum').apply(x(), { mask: ops.convertToTensor(mask) }) as Tensor, f.last.map((r, i) => r.map((v, k) => v + b.last[i][k])));
    // With returnSequences, masked steps of each direction output zeros (Keras forces zeroOutputForMask).
    const fz = refRNN('lstm', U, w, X, { mask, zeroOutput: true });
    const bz = refRNN('lstm', U, wb, X, { mask, goBackwards: true, zeroOutput: true });
    const seqLayer = bi('concat', { returnSequences: true });
    expect(seqLayer.forwardLayer.zeroOutputForMask && seqLayer.backwardLayer.zeroOutputForMask).toBe(true);
    const ys = seqLayer.apply(x(), { mask: ops.convertToTensor(mask) }) as Tensor;
    expectClose(ys, fz.seq.map((s, b_) => s.map((row, t) => [...row, ...bz.seq[b_][2 - t]])));
    expect(Array.from(ys.dataSync()).slice(2 * 2 * U, 3 * 2 * U)).toEqual(new Array(2 * U).fill(0));
    const g = new layers.Bidirectional(new layers.GRU(2, { returnSequences: true, dtype: 'float64' }), { mergeMode: 'concat', dtype: 'float64' });
    checkGrad((t) => g.apply(t) as Tensor, [randomTensor([2, 3, 2], 4)]);
    const config = bi('ave').getConfig();
    const clone = layers.Bidirectional.fromConfig(config);
    expect(clone.getConfig()).toEqual(config);
    expect(clone.mergeMode).toBe('ave');
    const backward = new layers.SimpleRNN(2, { goBackwards: true });
    const custom = new layers.Bidirectional(new layers.SimpleRNN(3), { backwardLayer: backward });
    expect((custom.apply(x()) as Tensor).shape).toEqual([2, 5]);
    expect(() => new layers.Bidirectional(new layers.SimpleRNN(3), { mergeMode: 'max' as never })).toThrow(/invalid mergeMode "max"/);
    expect(() => new layers.Bidirectional(new layers.SimpleRNN(3), { backwardLayer: new layers.SimpleRNN(3) })).toThrow(/goBackwards/);
    expect(() => new layers.Bidirectional(new layers.Dense(3) as never)).toThrow(/must be a recurrent layer/);
  });
});
