/**
 * Memory-bound op speed (`npm run bench -- elementwise`): GB/s of bytes moved by
 * add, exp, tanh, sigmoid, erf, gelu (both forms), sum (all / last axis), a matrix-vector product, softmax and layer normalization (fused,
 * and the composite it replaced), normalization training steps, and the rest of the op surface (exact unary
 * ops, log/log1p/rsqrt/sin, broadcasting, comparisons, where, casts, fills, argmax, cumsum, transpose, slice,
 * silu, softplus and the other activation primitives: relu6, hardSigmoid, hardSilu, softsign, logSigmoid, selu,
 * leakyRelu, elu, celu, hardTanh) on a 4096x4096 float32
 * tensor (64 MiB, far larger than L2), on the `cpu` and `js` backends, as a ratio of
 * the copy bandwidth measured in this run; numpy beside them when importable.
 *
 * The limit is a copy (read N bytes, write N bytes): the native `identity` kernel
 * (a memcpy split over the thread pool) and TypedArray.set. Each repetition times
 * the copies, then the op, and the ratio is taken within the repetition (shared
 * machines drift); figures are medians over repetitions. Target, reported and never
 * asserted: >= 70% of copy bandwidth on `cpu`.
 *
 * Narrowing a run: BENCH_OPS=<regex> (row names), BENCH_BACKENDS=cpu,js, BENCH_NUMPY=0.
 */
import { spawnSync } from 'node:child_process';
import * as keras from '../lib/index.js';
import { isNativeAvailable, loadNativeAddon, type NativeTensor } from '../lib/backends/cpu/native.js';
import { median, pythonEnv } from './common.js';

const { ops } = keras;

const ROWS = 4096;
const COLS = 4096;
const N = ROWS * COLS;
const F32 = 4;


/** Seconds taken by fn (one call). */
function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Uniform values in [-4, 4): wide enough that exp/tanh/sigmoid take their general path. */
function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 8 - 4;
  }
  return out;
}

interface OpCase {
  name: string;
  /** Least bytes the algorithm must move: inputs read plus output written (an input read twice counts twice). */
  bytes: number;
  /** x, y: the two 4096x4096 inputs; more: what `inputs` made from them (outside the timing). */
  run: (x: keras.Tensor, y: keras.Tensor, more: keras.Tensor[]) => unknown;
  /** Further inputs made once per backend before the warm-up (a bias row, |x|, a mask, ...). */
  inputs?: (x: keras.Tensor, y: keras.Tensor) => keras.Tensor[];
  note?: string;
}

// ------------------------------------------------------------ normalization training rows

const NHWC = [32, 64, 64, 128]; // the same 16M values seen as a batch of images, 128 channels

/** BatchNormalization in training before the fused primitive: moments, then normalize with them. */
function batchNormComposite(x: keras.Tensor, gamma: keras.Tensor, beta: keras.Tensor): keras.Tensor {
  const [m, v] = ops.moments(x, [0, 1, 2]);
  return ops.batchNormalization(x, m, v, -1, { scale: gamma, offset: beta, epsilon: 1e-3 });
}

function batchNormFused(x: keras.Tensor, gamma: keras.Tensor, beta: keras.Tensor): keras.Tensor {
  return ops.fusedBatchNormalization(x, -1, { scale: gamma, offset: beta, epsilon: 1e-3 })[0];
}

/** Layer normalization over the last axis with gamma/beta, from separate ops. */
function layerNormAffineComposite(x: keras.Tensor, gamma: keras.Tensor, beta: keras.Tensor): keras.Tensor {
  const [m, v] = ops.moments(x, [-1], true);
  const inv = ops.multiply(ops.rsqrt(ops.add(v, 1e-3)), gamma);
  return ops.add(ops.multiply(x, inv), ops.add(ops.multiply(ops.negative(m), inv), beta));
}

function layerNormAffineFused(x: keras.Tensor, gamma: keras.Tensor, beta: keras.Tensor): keras.Tensor {
  return ops.layerNormalization(x, { gamma, beta, epsilon: 1e-3 });
}

type Norm = (x: keras.Tensor, gamma: keras.Tensor, beta: keras.Tensor) => keras.Tensor;

/** Forward, then dx, dgamma, dbeta for the upstream gradient dy (a GradientTape). */
function forwardBackward(f: Norm, x: keras.Tensor, dy: keras.Tensor, gamma: keras.Tensor, beta: keras.Tensor): unknown {
  const tape = new keras.GradientTape();
  tape.watch(x, gamma, beta);
  const out = tape.record(() => f(x, gamma, beta));
  return tape.gradient(out, [x, gamma, beta], dy);
}

/** Training-step rows, fused vs composite: layer norm forward+backward; batch norm (NHWC) forward and forward+backward. */
function normTrainingCases(): OpCase[] {
  const params = (n: number): [keras.Tensor, keras.Tensor] => [ops.ones([n]), ops.zeros([n])];
  const nhwc = (t: keras.Tensor) => ops.reshape(t, NHWC);
  const C = NHWC[3]!;
  const lnGrad = (f: Norm) => (x: keras.Tensor, dy: keras.Tensor) => forwardBackward(f, x, dy, ...params(COLS));
  const bn = (f: Norm) => (x: keras.Tensor) => f(nhwc(x), ...params(C));
  const bnGrad = (f: Norm) => (x: keras.Tensor, dy: keras.Tensor) => forwardBackward(f, nhwc(x), nhwc(dy), ...params(C));
  // Layer norm: one fused pass per row, which fits in cache: forward reads x, writes y; backward reads x and dy, writes dx.
  const fwdBwd = 5 * N * F32;
  // Batch norm in training: the statistics depend on all of x (larger than the caches) before the first y, so x is
  // read twice: forward 3N (read x for the sums; read x, write y), backward 5N (read x and dy for the two channel
  // sums; read them again, write dx).
  const bnFwd = 3 * N * F32;
  const bnFwdBwd = (3 + 5) * N * F32;
  return [
    { name: 'layerNorm fwd+bwd, fused', bytes: fwdBwd, run: lnGrad(layerNormAffineFused), note: 'fwd+bwd rows: forward, then dx, dgamma, dbeta for a given dy (GradientTape); bytes of one forward and one backward pass' },
    { name: 'layerNorm fwd+bwd, composite', bytes: fwdBwd, run: lnGrad(layerNormAffineComposite) },
    { name: 'batchNorm train NHWC, fused', bytes: bnFwd, run: bn(batchNormFused), note: `batchNorm rows: training mode (batch statistics) over NHWC ${NHWC.join('x')}, gamma and beta per channel; bytes: x is read twice (statistics, then normalize), so forward 3N floats, backward 5N (x and dy for the sums, again for dx, dx written), fwd+bwd 8N` },
    { name: 'batchNorm train NHWC, composite', bytes: bnFwd, run: bn(batchNormComposite), note: 'composite: moments, then batchNormalization with them (the layer before the fused primitive)' },
    { name: 'batchNorm fwd+bwd, fused', bytes: bnFwdBwd, run: bnGrad(batchNormFused) },
    { name: 'batchNorm fwd+bwd, composite', bytes: bnFwdBwd, run: bnGrad(batchNormComposite) },
  ];
}

const ALL_CASES: OpCase[] = [
  { name: 'add', bytes: 3 * N * F32, run: (x, y) => ops.add(x, y) },
  { name: 'exp', bytes: 2 * N * F32, run: (x) => ops.exp(x) },
  { name: 'tanh', bytes: 2 * N * F32, run: (x) => ops.tanh(x) },
  { name: 'sigmoid', bytes: 2 * N * F32, run: (x) => ops.sigmoid(x) },
  { name: 'erf', bytes: 2 * N * F32, run: (x) => ops.erf(x) },
  { name: 'gelu (erf form)', bytes: 2 * N * F32, run: (x) => ops.gelu(x, false) },
  { name: 'gelu (tanh form)', bytes: 2 * N * F32, run: (x) => ops.gelu(x, true) },
  { name: 'sum (all)', bytes: N * F32, run: (x) => ops.sum(x) },
  { name: 'sum (axis -1)', bytes: (N + ROWS) * F32, run: (x) => ops.sum(x, -1) },
  { name: 'sum (axis 0)', bytes: (N + COLS) * F32, run: (x) => ops.sum(x, 0), note: 'leading axis: column accumulation, as bias gradients' },
  {
    name: 'matmul [1, 4096] x [4096, 4096]',
    bytes: (N + 2 * COLS) * F32,
    inputs: (_x, y) => [ops.slice(y, [0, 0], [1, COLS])],
    run: (x, _y, [v]) => ops.matmul(v!, x),
    note: 'a matrix-vector product (one inference row through a Dense layer): reads the matrix once',
  },
  {
    name: 'matmul [4096, 4096] x [4096, 1]',
    bytes: (N + 2 * ROWS) * F32,
    inputs: (_x, y) => [ops.reshape(ops.slice(y, [0, 0], [1, COLS]), [COLS, 1])],
    run: (x, _y, [v]) => ops.matmul(x, v!),
    note: 'the matrix times a column: one dot product per row (a Dense(1) head over a batch), reads the matrix once',
  },
  { name: 'softmax (axis -1)', bytes: 2 * N * F32, run: (x) => ops.softmax(x, -1), note: 'one fused pass per row (the softmax primitive)' },
  { name: 'layerNormalization (axis -1)', bytes: 2 * N * F32, run: (x) => ops.layerNormalization(x), note: 'one fused pass per row (the layerNorm primitive)' },
  { name: 'layerNorm composite', bytes: 2 * N * F32, run: (x) => layerNormComposite(x), note: 'moments, rsqrt, multiply, add: the formula before the primitive' },
  ...normTrainingCases(),
  ...moreOpCases(),
];

/**
 * The rest of the op surface a model touches, one row each: exact unary ops, the other vector math,
 * broadcasting, comparisons and where, casts, fills, more reductions, data movement, and two
 * activations that are compositions of primitives (eager runs one pass per primitive).
 */
function moreOpCases(): OpCase[] {
  const unary = 2 * N * F32;
  const positive = (x: keras.Tensor) => [ops.abs(x)];
  return [
    { name: 'add (bias row)', bytes: unary, run: (x, _y, [b]) => ops.add(x, b!), inputs: () => [ops.convertToTensor(randomFloats(COLS, 3))], note: 'x + a [4096] row broadcast over the rows; bytes x read, out written' },
    { name: 'logSoftmax (axis -1)', bytes: unary, run: (x) => ops.logSoftmax(x, -1) },
    { name: 'sparse crossentropy', bytes: (N + 2 * ROWS) * F32, run: (x, _y, [labels]) => keras.losses.sparseCategoricalCrossentropy(labels!, x, { fromLogits: true }), inputs: () => [ops.convertToTensor(Int32Array.from({ length: ROWS }, (_, i) => (i * 7919) % COLS))], note: 'sparse categorical crossentropy from logits, per row (the fused primitive); bytes: logits read' },
    { name: 'relu', bytes: unary, run: (x) => ops.relu(x) },
    { name: 'sign', bytes: unary, run: (x) => ops.sign(x) },
    { name: 'floor', bytes: unary, run: (x) => ops.floor(x) },
    { name: 'power (x, 2)', bytes: unary, run: (x) => ops.power(x, 2) },
    { name: 'log', bytes: unary, run: (_x, _y, [a]) => ops.log(a!), inputs: positive, note: 'of |x| (also log1p, rsqrt)' },
    { name: 'log1p', bytes: unary, run: (_x, _y, [a]) => ops.log1p(a!), inputs: positive },
    { name: 'rsqrt', bytes: unary, run: (_x, _y, [a]) => ops.rsqrt(a!), inputs: positive },
    { name: 'sin', bytes: unary, run: (x) => ops.sin(x) },
    { name: 'greater', bytes: N * (2 * F32 + 1), run: (x, y) => ops.greater(x, y), note: 'bool output, 1 byte per element' },
    { name: 'where', bytes: N * (3 * F32 + 1), run: (x, y, [c]) => ops.where(c!, x, y), inputs: (x) => [ops.greater(x, 0)] },
    { name: 'cast float32->int32', bytes: unary, run: (x) => ops.cast(x, 'int32') },
    { name: 'cast float32->bool', bytes: N * (F32 + 1), run: (x) => ops.cast(x, 'bool') },
    { name: 'zerosLike', bytes: N * F32, run: (x) => ops.zerosLike(x), note: 'writes only (N floats)' },
    { name: 'max (axis -1)', bytes: (N + ROWS) * F32, run: (x) => ops.max(x, -1) },
    { name: 'all (bool)', bytes: N + 1, run: (_x, _y, [b]) => ops.all(b!), inputs: (x) => [ops.greater(x, -5)], note: 'a bool [4096, 4096] (all true: x >= -4), 1 byte per element' },
    { name: 'argmax (axis -1)', bytes: (N + ROWS) * F32, run: (x) => ops.argmax(x, -1) },
    { name: 'argmax (axis 0)', bytes: (N + COLS) * F32, run: (x) => ops.argmax(x, 0) },
    { name: 'cumsum (axis -1)', bytes: unary, run: (x) => ops.cumsum(x, -1) },
    { name: 'cumsum (axis 0)', bytes: unary, run: (x) => ops.cumsum(x, 0) },
    { name: 'transpose', bytes: unary, run: (x) => ops.transpose(x) },
    { name: 'slice (left half)', bytes: N * F32, run: (x) => ops.slice(x, [0, 0], [ROWS, COLS / 2]), note: '[4096, 2048] of x, read and written' },
    { name: 'silu (primitive)', bytes: unary, run: (x) => ops.silu(x), note: 'silu and softplus are unary primitives (one pass; were compositions of sigmoid, multiply and of abs, exp, log1p, ..., one pass each)' },
    { name: 'softplus (primitive)', bytes: unary, run: (x) => ops.softplus(x) },
    { name: 'relu6 (primitive)', bytes: unary, run: (x) => ops.relu6(x), note: 'the activations below are primitives too (one pass; were where-based compositions, 2-6 passes)' },
    { name: 'hardSigmoid (primitive)', bytes: unary, run: (x) => ops.hardSigmoid(x) },
    { name: 'hardSilu (primitive)', bytes: unary, run: (x) => ops.hardSilu(x) },
    { name: 'softsign (primitive)', bytes: unary, run: (x) => ops.softsign(x) },
    { name: 'logSigmoid (primitive)', bytes: unary, run: (x) => ops.logSigmoid(x) },
    { name: 'selu (primitive)', bytes: unary, run: (x) => ops.selu(x) },
    { name: 'leakyRelu (primitive)', bytes: unary, run: (x) => ops.leakyRelu(x), note: 'leakyRelu, elu, celu: binary primitives, the parameter a scalar operand' },
    { name: 'elu (primitive)', bytes: unary, run: (x) => ops.elu(x) },
    { name: 'celu (primitive)', bytes: unary, run: (x) => ops.celu(x) },
    { name: 'hardTanh (primitive)', bytes: unary, run: (x) => ops.hardTanh(x), note: 'hardTanh: a unary primitive (was two wheres)' },
    { name: 'dropout', bytes: unary, run: (x) => keras.random.dropout(x, 0.5, { seed: 42 }), note: 'keras.random: rate 0.5 (the dropout primitive: Philox uniforms, compare and scale in one pass); bytes x read, out written' },
    { name: 'uniform', bytes: N * F32, run: () => keras.random.uniform([ROWS, COLS], { minval: -2, maxval: 3, seed: 42 }), note: 'bounds [-2, 3) (randomUniform with its scale and shift); bytes: out written' },
    { name: 'normal', bytes: N * F32, run: () => keras.random.normal([ROWS, COLS], { seed: 42 }), note: 'Box-Muller; bytes: out written' },
    { name: 'var (axis -1)', bytes: (N + ROWS) * F32, run: (x) => ops.var(x, -1), note: 'var, std and moments: the single-pass moments primitive (per chunk in cache: its mean, then squared deviations; chunks combined by Chan\'s formula); bytes x read' },
    { name: 'var (all)', bytes: N * F32, run: (x) => ops.var(x) },
    { name: 'moments (axis 0)', bytes: (N + 2 * COLS) * F32, run: (x) => ops.moments(x, 0)[1], note: 'leading axis (batch statistics): groups of 8 rows per column vector, in cache' },
    { name: 'logsumexp (axis -1)', bytes: (N + ROWS) * F32, run: (x) => ops.logsumexp(x, -1), note: 'the logsumexp primitive: softmax\'s log-sum rows (max, then exp-sum in L1 alongside the next row\'s max)' },
    ...movementCases(),
  ];
}

/** A fixed permutation of 0..n-1 (a linear congruential shuffle), as an int32 tensor. */
function permutation(n: number): keras.Tensor {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  let s = 5;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return ops.convertToTensor(p);
}

/** Data movement beyond transpose and slice: concatenate, pad, take, flip, roll, tile (bytes read + written). */
function movementCases(): OpCase[] {
  const unary = 2 * N * F32;
  const halves = (axis: number) => (x: keras.Tensor) =>
    axis === 0 ? [ops.slice(x, [0, 0], [ROWS / 2, COLS]), ops.slice(x, [ROWS / 2, 0], [ROWS / 2, COLS])] : [ops.slice(x, [0, 0], [ROWS, COLS / 2]), ops.slice(x, [0, COLS / 2], [ROWS, COLS / 2])];
  return [
    { name: 'concat 0', bytes: unary, run: (_x, _y, [a, b]) => ops.concatenate([a!, b!], 0), inputs: halves(0), note: 'two halves of x (made once) joined back along axis 0 / -1; bytes both read, out written' },
    { name: 'concat -1', bytes: unary, run: (_x, _y, [a, b]) => ops.concatenate([a!, b!], -1), inputs: halves(1) },
    { name: 'pad', bytes: (N + (ROWS + 2) * (COLS + 2)) * F32, run: (x) => ops.pad(x, [[1, 1], [1, 1]]), note: 'one zero each side of both axes, [4098, 4098] written' },
    { name: 'take 0', bytes: unary, run: (x, _y, [p]) => ops.take(x, p!, 0), inputs: () => [permutation(ROWS)], note: 'x by a permutation of its 4096 rows (take 0) or of its 4096 columns (take -1)' },
    { name: 'take -1', bytes: unary, run: (x, _y, [p]) => ops.take(x, p!, -1), inputs: () => [permutation(COLS)] },
    { name: 'flip', bytes: unary, run: (x) => ops.flip(x, -1), note: 'along the last axis (also roll, by 1000)' },
    { name: 'roll', bytes: unary, run: (x) => ops.roll(x, 1000, -1) },
    { name: 'tile', bytes: (N / 4 + N) * F32, run: (_x, _y, [q]) => ops.tile(q!, [2, 2]), inputs: (x) => [ops.slice(x, [0, 0], [ROWS / 2, COLS / 2])], note: 'a [2048, 2048] quarter of x repeated 2x2; bytes the quarter read, out written' },
  ];
}

/** BENCH_OPS=<regex> keeps the rows whose name matches (e.g. BENCH_OPS='softmax|gelu'); all rows by default. */
const CASES = process.env.BENCH_OPS ? ALL_CASES.filter((c) => new RegExp(process.env.BENCH_OPS!).test(c.name)) : ALL_CASES;

/** Layer normalization over the last axis from separate ops (what the fused primitive replaces). */
function layerNormComposite(x: keras.Tensor): keras.Tensor {
  const [m, v] = ops.moments(x, [-1], true);
  const inv = ops.rsqrt(ops.add(v, 1e-7));
  return ops.add(ops.multiply(x, inv), ops.multiply(ops.negative(m), inv));
}

/** Copy limits: each call times one copy of N float32 and returns GB/s (read + write). */
interface Copier {
  name: string;
  gbps: () => number;
  dispose?: () => void;
}

function copiers(src: Float32Array): Copier[] {
  const out: Copier[] = [];
  const dst = new Float32Array(N);
  dst.set(src); // touch every page before timing
  out.push({ name: 'TypedArray.set (1 JS thread)', gbps: () => (2 * N * F32) / seconds(() => dst.set(src)) / 1e9 });
  if (isNativeAvailable()) {
    const addon = loadNativeAddon();
    const t: NativeTensor = addon.createTensor(src, [ROWS, COLS], 'float32');
    addon.runKernel('identity', [t])[0]!.dispose(); // warm the caching allocator
    out.push({
      name: `native identity (memcpy over ${addon.backendInfo().threads} pool threads)`,
      gbps: () => {
        let r: NativeTensor | undefined;
        const s = seconds(() => {
          r = addon.runKernel('identity', [t])[0];
        });
        r!.dispose();
        return (2 * N * F32) / s / 1e9;
      },
      dispose: () => t.dispose(),
    });
  }
  return out;
}

/** Buffer.copy of 256 MiB: a larger JS-side copy, as a cross-check of the limit. */
function bufferCopyGBps(reps: number): number {
  const bytes = 256 * 1024 * 1024;
  const a = Buffer.alloc(bytes, 1);
  const b = Buffer.alloc(bytes, 2);
  a.copy(b);
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) rates.push((2 * bytes) / seconds(() => a.copy(b)) / 1e9);
  return median(rates);
}

interface Row {
  backend: string;
  op: string;
  ms: number;
  gbps: number;
  ofCopy: number;
}

function benchBackend(backend: string, data: Float32Array, dataY: Float32Array, copy: Copier[], reps: number): Row[] | string {
  try {
    keras.config.setBackend(backend);
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
  const rows: Row[] = [];
  try {
    const x = ops.reshape(ops.convertToTensor(data), [ROWS, COLS]);
    const y = ops.reshape(ops.convertToTensor(dataY), [ROWS, COLS]);
    for (const c of CASES) {
      const more = c.inputs?.(x, y) ?? [];
      keras.tidy(() => {
        c.run(x, y, more); // warm-up: native views, allocator cache, JIT
      });
      const times: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < reps; r++) {
        const limit = Math.max(...copy.map((k) => k.gbps()));
        const s = seconds(() =>
          keras.tidy(() => {
            c.run(x, y, more);
          }),
        );
        times.push(s);
        ratios.push(c.bytes / s / 1e9 / limit);
      }
      const s = median(times);
      rows.push({ backend, op: c.name, ms: s * 1e3, gbps: c.bytes / s / 1e9, ofCopy: median(ratios) });
      for (const t of more) t.dispose();
    }
    x.dispose();
    y.dispose();
    return rows;
  } catch (e) {
    return `failed (${(e as Error).message.split('\n')[0]})`;
  } finally {
    keras.config.setBackend('js');
  }
}

// numpy child: its own copy bandwidth, then each op; medians over repetitions, one JSON line.
const NUMPY = `
import json, sys, time
import numpy as np
R, C, reps = ${ROWS}, ${COLS}, int(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.uniform(-4, 4, (R, C)).astype(np.float32)
y = rng.uniform(-4, 4, (R, C)).astype(np.float32)
dst = np.empty_like(x); np.copyto(dst, x)
def softmax(a):
    e = np.exp(a - a.max(-1, keepdims=True)); return e / e.sum(-1, keepdims=True)
def layer_norm(a):
    m = a.mean(-1, keepdims=True); return (a - m) / np.sqrt(((a - m) ** 2).mean(-1, keepdims=True) + 1e-7)
ops = {
  'copy': lambda: np.copyto(dst, x),
  'add': lambda: x + y, 'exp': lambda: np.exp(x), 'tanh': lambda: np.tanh(x),
  'sigmoid': lambda: 1 / (1 + np.exp(-x)),
  'gelu (tanh form)': lambda: 0.5 * x * (1 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x))),
  'sum (all)': lambda: x.sum(), 'sum (axis -1)': lambda: x.sum(-1), 'sum (axis 0)': lambda: x.sum(0), 'softmax (axis -1)': lambda: softmax(x),
  'layerNormalization (axis -1)': lambda: layer_norm(x),
}
try:  # numpy has no erf; scipy's when importable
    from scipy.special import erf as sp_erf
    ops['erf'] = lambda: sp_erf(x)
    ops['gelu (erf form)'] = lambda: 0.5 * x * (1 + sp_erf(x * np.float32(0.7071067811865476)))
except ImportError:
    pass
out = {'numpy': np.__version__}
for k, f in ops.items():
    f(); ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort(); out[k] = ts[len(ts) // 2]
print(json.dumps(out))
`;

function numpy(reps: number): Record<string, number> | string {
  const r = spawnSync('python3', ['-c', NUMPY, String(reps)], { env: pythonEnv(), encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return r.error || /No module named/.test(r.stderr) ? 'not importable' : `failed (${r.stderr.trim().split('\n').pop()})`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

function table(header: string[], cells: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const c of cells) console.log(line(c));
}

/** Runs the memory-bandwidth benchmark and prints its table. */
export async function runElementwiseBench(): Promise<void> {
  const backends = (process.env.BENCH_BACKENDS ?? 'cpu,js').split(',');
  const cpuInfo = isNativeAvailable() ? loadNativeAddon().backendInfo() : undefined;
  console.log(`elementwise benchmark: ${ROWS}x${COLS} float32 (${(N * F32) / 2 ** 20} MiB per tensor), backends ${backends.join(', ')}`);
  console.log(
    cpuInfo
      ? `cpu backend: isa ${cpuInfo.isa}, ${cpuInfo.threads} threads (KERAS_NUM_THREADS=${process.env.KERAS_NUM_THREADS ?? 'unset'}), L2 ${cpuInfo.cpu.l2Bytes / 1024} KiB, L3 ${cpuInfo.cpu.l3Bytes / 2 ** 20} MiB`
      : 'cpu backend: native addon not loadable',
  );

  const data = randomFloats(N, 1);
  const dataY = randomFloats(N, 2);
  const copy = copiers(data);
  const limitReps = 9;
  console.log('\ncopy bandwidth (GB/s of bytes read + written, median of repetitions):');
  const limits = copy.map((k) => {
    k.gbps();
    return median(Array.from({ length: limitReps }, () => k.gbps()));
  });
  copy.forEach((k, i) => console.log(`  ${k.name.padEnd(48)} ${limits[i]!.toFixed(1)}`));
  console.log(`  ${'Buffer.copy 256 MiB (1 JS thread)'.padEnd(48)} ${bufferCopyGBps(5).toFixed(1)}`);
  const np = process.env.BENCH_NUMPY === '0' ? 'skipped (BENCH_NUMPY=0)' : numpy(5);
  const npCopy = typeof np === 'string' ? undefined : (2 * N * F32) / np.copy! / 1e9;
  if (npCopy !== undefined) console.log(`  ${'np.copyto (numpy process, 1 thread)'.padEnd(48)} ${npCopy.toFixed(1)}`);
  console.log(`  limit for the ratios of cpu and js: ${copy.length > 1 ? 'the faster of' : ''} ${copy.map((k) => k.name.split(' (')[0]).join(' and ')}, re-timed in every repetition`);

  const header = ['op', 'backend', 'ms', 'GB/s', 'of copy'];
  const cells: string[][] = [];
  const notes = new Set<string>();
  for (const b of backends) {
    const rows = benchBackend(b, data, dataY, copy, b === 'js' ? 3 : 7);
    if (typeof rows === 'string') {
      notes.add(`${b}: ${rows}`);
      continue;
    }
    for (const r of rows) cells.push([r.op, r.backend, r.ms.toFixed(2), r.gbps.toFixed(1), `${(100 * r.ofCopy).toFixed(0)}%`]);
  }
  for (const c of CASES) if (c.note) notes.add(`${c.name}: ${c.note}`);

  if (typeof np === 'string' || npCopy === undefined) console.log(`\nnumpy: ${np}`);
  else {
    for (const c of CASES) {
      const s = np[c.name];
      if (s === undefined) continue; // an op numpy (or scipy) lacks
      cells.push([c.name, `numpy ${np.numpy}`, (s * 1e3).toFixed(2), (c.bytes / s / 1e9).toFixed(1), `${((100 * c.bytes) / s / 1e9 / npCopy).toFixed(0)}%*`]);
    }
    notes.add(`numpy rows (*): ratio to numpy's own np.copyto measured in its process (${npCopy.toFixed(1)} GB/s); numpy runs these ops on one thread`);
  }
  console.log('');
  cells.sort((a, b) => CASES.findIndex((c) => c.name === a[0]) - CASES.findIndex((c) => c.name === b[0]));
  table(header, cells);
  console.log('(GB/s: least bytes the algorithm must move (inputs read + output written) / median time; "of copy": median of per-repetition');
  console.log(' ratios to the copy limit timed just before the op; target for cpu >= 70%)');
  for (const n of notes) console.log(`  ${n}`);
  for (const k of copy) k.dispose?.();
}
