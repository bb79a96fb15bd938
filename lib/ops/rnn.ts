/**
 * The fused recurrent cells: one timestep of an LSTM or a GRU (resetAfter) with Keras'
 * gate order and default activations as one primitive, and its gradient as another, so
 * a recurrent step is one kernel call instead of a dozen small elementwise ones (and its
 * gates one matmul); and the fused sequences, every timestep in one primitive (its
 * gradient another). Internal: the layers use them when their activations are tanh and
 * sigmoid; they are not part of the keras.ops surface (Keras has no such ops).
 */
import { isFloat } from '../dtype.js';
import { DTypeError, GradientError, ShapeError, fmtShape } from '../errors.js';
import { isRecording, runOp } from '../engine.js';
import type { Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zerosLike } from './elementwise.js';
import { rowSum } from './common.js';
import { sum } from './reduction.js';
import { concatenate, expandDims, reshape, slice } from './shape.js';
import { defineOp, type TensorSpec } from './registry.js';

/**
 * `main` (named `name`) is float [batch, blocks * units]; each named state has its dtype and shape
 * [batch, units]. Returns [batch, units].
 */
function inferCell(op: string, name: string, main: TensorSpec, blocks: number, what: string, states: [string, TensorSpec][]): [Dim, number] {
  if (!isFloat(main.dtype)) throw new DTypeError(`${op}: ${name} must be float32 or float64, received ${main.dtype} ${fmtShape(main.shape)}`);
  const width = main.shape[1];
  if (main.shape.length !== 2 || width === null || width === undefined || width % blocks !== 0) {
    throw new ShapeError(`${op}: ${name} must be [batch, ${blocks} * units] (${what} side by side), received ${fmtShape(main.shape)}`);
  }
  let batch = main.shape[0]!;
  const units = width / blocks;
  for (const [state, s] of states) {
    if (s.dtype !== main.dtype) throw new DTypeError(`${op}: ${state} must be ${main.dtype} like ${name}, received ${s.dtype} ${fmtShape(s.shape)}`);
    const fits = s.shape.length === 2 && s.shape[1] === units && (s.shape[0] === null || batch === null || s.shape[0] === batch);
    if (!fits) throw new ShapeError(`${op}: ${state} must be [batch, ${units}] for ${name} ${fmtShape(main.shape)}, received ${fmtShape(s.shape)}`);
    batch = batch ?? s.shape[0]!;
  }
  return [batch, units];
}

/** `t` (named `name`) has the dtype and shape of `like`. */
function expectLike(op: string, name: string, t: TensorSpec, like: TensorSpec): void {
  const fits = t.dtype === like.dtype && t.shape.length === like.shape.length && t.shape.every((d, i) => d === null || like.shape[i] === null || d === like.shape[i]);
  if (!fits) throw new ShapeError(`${op}: ${name} must be ${like.dtype} ${fmtShape(like.shape)}, received ${t.dtype} ${fmtShape(t.shape)}`);
}

// x and rec [batch, 4 * units] the input and recurrent projections (i, f, c, o blocks; the bias
// in either), c [batch, units] the previous carry; z = x + rec: i = sigmoid(z_i), f = sigmoid(z_f),
// g = tanh(z_c), o = sigmoid(z_o), c' = f c + i g, h = o tanh(c'). Returns [h, c', acts] with acts
// [batch, 5 * units] = (i, f, g, o, tanh(c')): what the gradient needs, so it computes no
// activation again (like layerNorm's mean and rstd, not differentiable).
defineOp({
  name: 'lstmCell',
  category: 'nn',
  attrs: [],
  arity: 3,
  infer([x, rec, c]) {
    const [batch, units] = inferCell('lstmCell', 'x', x, 4, 'the gates i, f, c, o', [['c', c]]);
    expectLike('lstmCell', 'rec', rec, x);
    const state = { shape: [batch, units], dtype: x.dtype };
    return [state, state, { shape: [batch, 5 * units], dtype: x.dtype }];
  },
  grad: ({ inputs: [, , c], outputs: [, , acts] }, [dh, dc]) => {
    if (!dh && !dc) return [null, null, null];
    const [dz, dcPrev] = runOp('lstmCellGrad', [acts!, c!, dh ?? zerosLike(c!), dc ?? zerosLike(c!)]);
    return [dz, dz, dcPrev]; // z = x + rec
  },
});

// The cell's gradient from its activations (i, f, g, o, t = tanh(c')) and c: with
// dc~ = dc + dh o (1 - t^2): dz_i = dc~ g i (1 - i), dz_f = dc~ c f (1 - f),
// dz_c = dc~ i (1 - g^2), dz_o = dh t o (1 - o); dcPrev = dc~ f. Returns [dz, dcPrev].
defineOp({
  name: 'lstmCellGrad',
  category: 'nn',
  attrs: [],
  arity: 4,
  infer([acts, c, dh, dc]) {
    const [batch, units] = inferCell('lstmCellGrad', 'acts', acts, 5, "i, f, g, o and tanh(c')", [['c', c], ['dh', dh], ['dc', dc]]);
    return [{ shape: [batch, 4 * units], dtype: acts.dtype }, { shape: [batch, units], dtype: acts.dtype }];
  },
  gradientUnsupported: 'second derivatives through the fused LSTM cell are not supported; an LSTM given its activations as functions of its own (not the built-in tanh and sigmoid) builds the cell from ops, which differentiate twice',
});

// GRU with resetAfter: x [batch, 3 * units] the input projection (z, r, h blocks, input bias
// included), rec [batch, 3 * units] the recurrent one (h_prev U), rb [3 * units] the recurrent
// bias, h [batch, units] the previous state: with rec' = rec + rb, z = sigmoid(x_z + rec'_z),
// r = sigmoid(x_r + rec'_r), hh = tanh(x_h + r rec'_h), h' = z h + (1 - z) hh. Returns [h', acts]
// with acts [batch, 3 * units] = (z, r, hh) for the gradient (not differentiable). The bias is
// added in the cell (each rec' rounded as the add it replaces) rather than by an add a timestep;
// its gradient, drec's rows summed, merges over the timesteps (rowSum) into one sum.
defineOp({
  name: 'gruCell',
  category: 'nn',
  attrs: [],
  arity: 4,
  infer([x, rec, h, rb]) {
    const [batch, units] = inferCell('gruCell', 'x', x, 3, 'the gates z, r, h', [['h', h]]);
    expectLike('gruCell', 'rec', rec, x);
    expectLike('gruCell', 'rb', rb, { shape: [3 * units], dtype: x.dtype });
    return [{ shape: [batch, units], dtype: x.dtype }, { shape: [batch, 3 * units], dtype: x.dtype }];
  },
  grad: ({ inputs: [, rec, h, rb], outputs: [, acts] }, [dh]) => {
    if (!dh) return [null, null, null, null];
    const [dx, drec, dhPrev] = runOp('gruCellGrad', [acts!, rec!, h!, dh, rb!]);
    return [dx, drec, dhPrev, rowSum(rb!, drec!) ?? sum(drec!, 0)];
  },
});

// The GRU cell's gradient from its activations (z, r, hh), rec, h and rb: with rec' = rec + rb,
// dpz = dh' (h - hh) z (1 - z), dph = dh' (1 - z) (1 - hh^2), dpr = dph rec'_h r (1 - r):
// dx = (dpz, dpr, dph), drec = (dpz, dpr, dph r), dhPrev = dh' z. Returns [dx, drec, dhPrev].
defineOp({
  name: 'gruCellGrad',
  category: 'nn',
  attrs: [],
  arity: 5,
  infer([acts, rec, h, dh, rb]) {
    const [batch, units] = inferCell('gruCellGrad', 'acts', acts, 3, 'z, r and hh', [['h', h], ['dh', dh]]);
    expectLike('gruCellGrad', 'rec', rec, acts);
    expectLike('gruCellGrad', 'rb', rb, { shape: [3 * units], dtype: acts.dtype });
    const gates = { shape: [batch, 3 * units], dtype: acts.dtype };
    return [gates, gates, { shape: [batch, units], dtype: acts.dtype }];
  },
  gradientUnsupported: 'second derivatives through the fused GRU cell are not supported; a GRU given its activations as functions of its own (not the built-in tanh and sigmoid) builds the cell from ops, which differentiate twice',
});

/**
 * The sequence ops' `xs` [steps, batch, blocks * units] (time-major input projections) and `rk`
 * [units, blocks * units]; `states` checked as the cell checks them. Returns [steps, batch, units].
 */
function inferSequence(op: string, xs: TensorSpec, rk: TensorSpec, blocks: number, what: string, states: [string, TensorSpec][]): [Dim, Dim, number] {
  if (!isFloat(xs.dtype)) throw new DTypeError(`${op}: xs must be float32 or float64, received ${xs.dtype} ${fmtShape(xs.shape)}`);
  const width = xs.shape[2];
  if (xs.shape.length !== 3 || width === null || width === undefined || width % blocks !== 0) {
    throw new ShapeError(`${op}: xs must be [steps, batch, ${blocks} * units] (${what} side by side), received ${fmtShape(xs.shape)}`);
  }
  const [batch, units] = inferCell(op, 'xs[t]', { shape: xs.shape.slice(1), dtype: xs.dtype }, blocks, what, states);
  expectLike(op, 'rk', rk, { shape: [units, width], dtype: xs.dtype });
  return [xs.shape[0]!, batch, units];
}

/** The sequence gradients' `acts`, float [steps, batch, blocks * units]: returns [steps, batch, units]. */
function inferSequenceGrad(op: string, acts: TensorSpec, blocks: number): [Dim, Dim, number] {
  const width = acts.shape[2];
  if (!isFloat(acts.dtype) || acts.shape.length !== 3 || width === null || width === undefined || width % blocks !== 0) {
    throw new ShapeError(`${op}: acts must be float32 or float64 [steps, batch, ${blocks} * units], received ${acts.dtype} ${fmtShape(acts.shape)}`);
  }
  return [acts.shape[0]!, acts.shape[1]!, width / blocks];
}

/** h_{t-1} of every step of a sequence op, h0 then hs but its last, as [steps * batch, units] rows. */
function previousStates(hs: Tensor, h0: Tensor): Tensor {
  const steps = hs.shape[0]!;
  const first = expandDims(h0, 0);
  return reshape(steps > 1 ? concatenate([first, slice(hs, [0, 0, 0], [steps - 1, -1, -1])], 0) : first, [-1, h0.shape[1]!]);
}

/** Σ_t h_{t-1}^T g_t, the recurrent kernel rk's gradient from every step's gate gradients g [steps, batch, k * units]: one product. */
function recurrentKernelGrad(hs: Tensor, h0: Tensor, gates: Tensor, rk: Tensor): Tensor {
  if (hs.shape[0] === 0) return zerosLike(rk);
  return runOp('matmul', [previousStates(hs, h0), reshape(gates, [-1, gates.shape[2]!])], { transposeA: true })[0]!;
}

function withoutSavedActivations(op: string): never {
  throw new GradientError(`${op}: run without saveActivations (inference), it kept nothing to differentiate`);
}

// Every timestep of the LSTM cell in one op: xs [steps, batch, 4 * units] the input projections
// (time-major, bias included), rk [units, 4 * units] the recurrent kernel, h0 and c0 [batch,
// units] the initial states; step t: [h_t, c_t] = lstmCell(xs[t], h_{t-1} rk, c_{t-1}). Returns
// [hs, cT, acts, cs]: hs [steps, batch, units] every h_t, cT the last carry (c0 over 0 steps);
// with saveActivations (for the gradient) acts [steps, batch, 5 * units] every step's cell
// activations and cs [steps, batch, units] every c_t (what the gradient reads; not
// differentiable themselves), else both [0] (inference).
defineOp<{ saveActivations?: boolean }>({
  name: 'lstmSequence',
  category: 'nn',
  attrs: ['saveActivations'],
  arity: 4,
  infer([xs, rk, h0, c0], { saveActivations }) {
    const [steps, batch, units] = inferSequence('lstmSequence', xs, rk, 4, 'the gates i, f, c, o', [['h0', h0], ['c0', c0]]);
    const saved = (width: number) => ({ shape: saveActivations ? [steps, batch, width] : [0], dtype: xs.dtype });
    return [{ shape: [steps, batch, units], dtype: xs.dtype }, { shape: [batch, units], dtype: xs.dtype }, saved(5 * units), saved(units)];
  },
  grad: ({ inputs: [, rk, h0, c0], outputs: [hs, , acts, cs], attrs }, [dhs, dcT]) => {
    if (!attrs.saveActivations) withoutSavedActivations('lstmSequence');
    if (!dhs && !dcT) return [null, null, null, null];
    const [dxs, dh0, dc0] = runOp('lstmSequenceGrad', [acts!, cs!, c0!, rk!, dhs ?? zerosLike(hs!), dcT ?? zerosLike(c0!)]);
    return [dxs!, recurrentKernelGrad(hs!, h0!, dxs!, rk!), dh0!, dc0!];
  },
});

// Backpropagation through lstmSequence's steps: acts and cs its saved activations and carries,
// c0 the initial carry, rk the recurrent kernel, dhs [steps, batch, units] and dcT [batch, units]
// the gradients of hs and cT. Returns [dxs, dh0, dc0]: dxs [steps, batch, 4 * units] the gradient
// of xs (each step's gates), dh0 and dc0 those of the initial states.
defineOp({
  name: 'lstmSequenceGrad',
  category: 'nn',
  attrs: [],
  arity: 6,
  infer([acts, cs, c0, rk, dhs, dcT]) {
    const [steps, batch, units] = inferSequenceGrad('lstmSequenceGrad', acts, 5);
    const sequence = { shape: [steps, batch, units], dtype: acts.dtype }, state = { shape: [batch, units], dtype: acts.dtype };
    expectLike('lstmSequenceGrad', 'cs', cs, sequence);
    expectLike('lstmSequenceGrad', 'c0', c0, state);
    expectLike('lstmSequenceGrad', 'rk', rk, { shape: [units, 4 * units], dtype: acts.dtype });
    expectLike('lstmSequenceGrad', 'dhs', dhs, sequence);
    expectLike('lstmSequenceGrad', 'dcT', dcT, state);
    return [{ shape: [steps, batch, 4 * units], dtype: acts.dtype }, state, state];
  },
  gradientUnsupported: 'second derivatives through the fused LSTM sequence are not supported',
});

// Every timestep of the GRU cell (resetAfter) in one op: xs [steps, batch, 3 * units], rk [units,
// 3 * units], h0 [batch, units], rb [3 * units] the recurrent bias; step t: h_t = gruCell(xs[t],
// h_{t-1} rk, h_{t-1}, rb). Returns [hs, acts, recs]: hs [steps, batch, units]; with
// saveActivations (for the gradient) acts and recs [steps, batch, 3 * units] every step's cell
// activations and recurrent product (what the gradient reads; not differentiable themselves),
// else both [0] (inference).
defineOp<{ saveActivations?: boolean }>({
  name: 'gruSequence',
  category: 'nn',
  attrs: ['saveActivations'],
  arity: 4,
  infer([xs, rk, h0, rb], { saveActivations }) {
    const [steps, batch, units] = inferSequence('gruSequence', xs, rk, 3, 'the gates z, r, h', [['h0', h0]]);
    expectLike('gruSequence', 'rb', rb, { shape: [3 * units], dtype: xs.dtype });
    const saved = { shape: saveActivations ? [steps, batch, 3 * units] : [0], dtype: xs.dtype };
    return [{ shape: [steps, batch, units], dtype: xs.dtype }, saved, saved];
  },
  grad: ({ inputs: [, rk, h0, rb], outputs: [hs, acts, recs], attrs }, [dhs]) => {
    if (!attrs.saveActivations) withoutSavedActivations('gruSequence');
    if (!dhs) return [null, null, null, null];
    const [dxs, drecs, dh0] = runOp('gruSequenceGrad', [acts!, recs!, hs!, h0!, rk!, rb!, dhs]);
    return [dxs!, recurrentKernelGrad(hs!, h0!, drecs!, rk!), dh0!, sum(reshape(drecs!, [-1, rb!.shape[0]!]), 0)];
  },
});

// Backpropagation through gruSequence's steps: acts and recs its saved activations and recurrent
// products, hs its output, h0, rk and rb its inputs, dhs the gradient of hs. Returns [dxs, drecs,
// dh0]: the gradients of xs, of every step's recurrent product (for rk's and rb's), and of h0.
defineOp({
  name: 'gruSequenceGrad',
  category: 'nn',
  attrs: [],
  arity: 7,
  infer([acts, recs, hs, h0, rk, rb, dhs]) {
    const [steps, batch, units] = inferSequenceGrad('gruSequenceGrad', acts, 3);
    const gates = { shape: acts.shape, dtype: acts.dtype }, sequence = { shape: [steps, batch, units], dtype: acts.dtype };
    const state = { shape: [batch, units], dtype: acts.dtype };
    expectLike('gruSequenceGrad', 'recs', recs, gates);
    expectLike('gruSequenceGrad', 'hs', hs, sequence);
    expectLike('gruSequenceGrad', 'h0', h0, state);
    expectLike('gruSequenceGrad', 'rk', rk, { shape: [units, 3 * units], dtype: acts.dtype });
    expectLike('gruSequenceGrad', 'rb', rb, { shape: [3 * units], dtype: acts.dtype });
    expectLike('gruSequenceGrad', 'dhs', dhs, sequence);
    return [gates, gates, state];
  },
  gradientUnsupported: 'second derivatives through the fused GRU sequence are not supported',
});

/**
 * One GRU timestep (resetAfter) with sigmoid gates and tanh: `x` the input projection and `rec`
 * the recurrent one, [batch, 3 * units] each (z, r, h), `rb` [3 * units] the recurrent bias,
 * `h` [batch, units] the previous state. Returns h'.
 */
export function gruCell(x: Tensor, rec: Tensor, rb: Tensor, h: Tensor): Tensor {
  const [hNew, acts] = runOp('gruCell', [x, rec, h, rb]);
  if (!acts!.isSymbolic && !isRecording()) acts!.dispose(); // only a gradient reads it
  return hNew!;
}

/**
 * One LSTM timestep with sigmoid gates and tanh: `x` and `rec` the input and recurrent
 * projections, [batch, 4 * units] each (i, f, c, o; their sum is the gates' pre-activations),
 * `c` [batch, units] the previous carry. Returns [h, c'].
 */
export function lstmCell(x: Tensor, rec: Tensor, c: Tensor): [Tensor, Tensor] {
  const [h, cNew, acts] = runOp('lstmCell', [x, rec, c]);
  if (!acts!.isSymbolic && !isRecording()) acts!.dispose(); // only a gradient reads it
  return [h!, cNew!];
}

/**
 * Every timestep of an LSTM with sigmoid gates and tanh in one kernel call: `xs` [steps, batch,
 * 4 * units] the time-major input projections, `rk` the recurrent kernel, `h0` and `c0` the
 * initial states; `saveActivations` keeps what the gradient needs (else the op has none).
 * Returns [hs, cT]: hs [steps, batch, units], cT [batch, units].
 */
export function lstmSequence(xs: Tensor, rk: Tensor, h0: Tensor, c0: Tensor, saveActivations: boolean): [Tensor, Tensor] {
  const [hs, cT, acts, cs] = runOp('lstmSequence', [xs, rk, h0, c0], saveActivations ? { saveActivations } : {});
  if (!acts!.isSymbolic && !saveActivations) {
    acts!.dispose();
    cs!.dispose();
  }
  return [hs!, cT!];
}

/**
 * Every timestep of a GRU (resetAfter) with sigmoid gates and tanh in one kernel call: `xs`
 * [steps, batch, 3 * units], `rk` the recurrent kernel, `h0` the initial state, `rb` [3 * units]
 * the recurrent bias; `saveActivations` keeps what the gradient needs (else the op has none).
 * Returns hs [steps, batch, units].
 */
export function gruSequence(xs: Tensor, rk: Tensor, h0: Tensor, rb: Tensor, saveActivations: boolean): Tensor {
  const [hs, acts, recs] = runOp('gruSequence', [xs, rk, h0, rb], saveActivations ? { saveActivations } : {});
  if (!acts!.isSymbolic && !saveActivations) {
    acts!.dispose();
    recs!.dispose();
  }
  return hs!;
}
