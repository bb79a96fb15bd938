import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { maskOf, type Layer } from '../../lib/layers/layer.js';
import { layerFromConfig } from '../../lib/layers/registry.js';
import { roundTrip } from './helpers.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops, layers } = keras;

const t = (v: Parameters<typeof ops.convertToTensor>[0]) => ops.convertToTensor(v);
const b = (v: boolean[][]) => ops.convertToTensor(v, 'bool');

describe('elementwise merge layers', () => {
  const A = [[1, -2, 3], [4, 5, -6]];
  const B = [[-1, 4, 2], [0.5, 5, 1]];
  const C = [[2, 2, 2], [3, -3, 0]];

  it('Add, Subtract, Multiply, Average, Maximum, Minimum on fixed values', () => {
    const ins = [t(A), t(B), t(C)];
    const zip = (f: (...v: number[]) => number) => A.map((r, i) => r.map((_, j) => f(A[i][j], B[i][j], C[i][j])));
    expectClose(new layers.Add().apply(ins) as Tensor, zip((a, b2, c) => a + b2 + c), { shape: [2, 3] });
    expectClose(new layers.Subtract().apply([t(A), t(B)]) as Tensor, zip((a, b2) => a - b2));
    expectClose(new layers.Multiply().apply(ins) as Tensor, zip((a, b2, c) => a * b2 * c));
    expectClose(new layers.Average().apply(ins) as Tensor, zip((a, b2, c) => (a + b2 + c) / 3));
    expectClose(new layers.Maximum().apply(ins) as Tensor, zip(Math.max));
    expectClose(new layers.Minimum().apply(ins) as Tensor, zip(Math.min));
    // Functional forms, and a single-input list.
    expectClose(layers.add([t(A), t(B)]), zip((a, b2) => a + b2));
    expectClose(layers.subtract([t(A), t(B)]), zip((a, b2) => a - b2));
    expectClose(layers.multiply([t(A), t(B)]), zip((a, b2) => a * b2));
    expectClose(layers.average([t(A), t(B)]), zip((a, b2) => (a + b2) / 2));
    expectClose(layers.maximum([t(A), t(B)]), zip((a, b2) => Math.max(a, b2)));
    expectClose(layers.minimum([t(A), t(B)]), zip((a, b2) => Math.min(a, b2)));
    expectClose(new layers.Add().apply([t(A)]) as Tensor, A);
  });

  it('broadcasts size-1 dims and expands lower-rank inputs after the batch axis (Keras)', () => {
    // (2, 1, 3) + (2, 2, 1) -> (2, 2, 3)
    const x = t([[[1, 2, 3]], [[4, 5, 6]]]);
    const y = t([[[10], [20]], [[30], [40]]]);
    expectClose(new layers.Add().apply([x, y]) as Tensor, [[[11, 12, 13], [21, 22, 23]], [[34, 35, 36], [44, 45, 46]]], { shape: [2, 2, 3] });
    // (2, 3) with (2, 4, 3): the rank-2 input becomes (2, 1, 3).
    const z = ops.ones([2, 4, 3]);
    const s = new layers.Multiply().apply([t(A), z]) as Tensor;
    expect(s.shape).toEqual([2, 4, 3]);
    expectClose(s, A.flatMap((r) => [r, r, r, r]));
    // Size-0 batch, int32 inputs keep their dtype.
    expect((new layers.Maximum().apply([ops.zeros([0, 3]), ops.zeros([0, 3])]) as Tensor).shape).toEqual([0, 3]);
    const ints = new layers.Add().apply([ops.convertToTensor([[1, 2]], 'int32'), ops.convertToTensor([[3, 4]], 'int32')]) as Tensor;
    expect(ints.dtype).toBe('int32');
    expectClose(ints, [[4, 6]]);
    // Symbolic inputs with an unknown batch.
    const sym = new layers.Add().apply([keras.Input({ shape: [3] }), keras.Input({ shape: [3] })]) as Tensor;
    expect(sym.shape).toEqual([null, 3]);
  });

  it('float64 gradients through every input', () => {
    const xs = [randomTensor([2, 3], 1), randomTensor([2, 3], 2), randomTensor([2, 3], 3)];
    for (const L of [layers.Add, layers.Multiply, layers.Average, layers.Maximum, layers.Minimum]) {
      const l = new L({ dtype: 'float64' });
      checkGrad((a, b2, c) => l.apply([a, b2, c]) as Tensor, xs);
    }
    const sub = new layers.Subtract({ dtype: 'float64' });
    checkGrad((a, b2) => sub.apply([a, b2]) as Tensor, xs.slice(0, 2));
    // Broadcast input: its gradient is summed over the broadcast axis.
    const add = new layers.Add({ dtype: 'float64' });
    checkGrad((a, b2) => add.apply([a, b2]) as Tensor, [randomTensor([2, 1, 3], 4), randomTensor([2, 4, 3], 5)]);
  });

  it('masks: the output mask is the OR of the input masks when all inputs have one', () => {
    const m1 = b([[true, false, true]]);
    const m2 = b([[false, false, true]]);
    const x = t([[[1], [2], [3]]]);
    const y = t([[[10], [20], [30]]]);
    const add = new layers.Add();
    const out = add.apply([x, y], { mask: [m1, m2] }) as Tensor;
    expectClose(out, [[[11], [22], [33]]]);
    expectClose(maskOf(out)!, [[1, 0, 1]]);
    // One unmasked input: no output mask.
    expect(maskOf(new layers.Add().apply([x, y], { mask: [m1, null] }) as Tensor)).toBeUndefined();
    // Masks attached to the inputs (by Embedding(maskZero)) are found without passing them.
    const e = new layers.Embedding(5, 2, { maskZero: true });
    const e1 = e.apply(ops.convertToTensor([[1, 0, 2]], 'int32')) as Tensor;
    const e2 = e.apply(ops.convertToTensor([[0, 0, 3]], 'int32')) as Tensor;
    expectClose(maskOf(new layers.Average().apply([e1, e2]) as Tensor)!, [[1, 0, 1]]);
  });

  it('masks: Maximum/Minimum use the other input where one is masked; Multiply treats masked entries as 1 and zeroes fully masked ones', () => {
    const x = t([[[1], [5], [3]]]);
    const y = t([[[4], [2], [-7]]]);
    const mx = b([[true, false, false]]);
    const my = b([[false, true, false]]);
    // Step 0: only x valid -> 1; step 1: only y valid -> 2; step 2: neither -> Keras keeps the first input's value.
    expectClose(new layers.Maximum().apply([x, y], { mask: [mx, my] }) as Tensor, [[[1], [2], [3]]]);
    expectClose(new layers.Minimum().apply([x, y], { mask: [mx, my] }) as Tensor, [[[1], [2], [3]]]);
    expectClose(new layers.Minimum().apply([x, y], { mask: [b([[true, true, true]]), my] }) as Tensor, [[[1], [2], [3]]]);
    expectClose(new layers.Minimum().apply([x, y]) as Tensor, [[[1], [2], [-7]]]);
    const prod = new layers.Multiply().apply([x, y], { mask: [mx, my] }) as Tensor;
    expectClose(prod, [[[1], [2], [0]]]);
    expectClose(maskOf(prod)!, [[1, 1, 0]]);
    // Only one input masked: its masked entries count as 1 and nothing is zeroed.
    expectClose(new layers.Multiply().apply([x, y], { mask: [mx, null] }) as Tensor, [[[4], [2], [-7]]]);
  });

  it('errors name the layer and the shapes', () => {
    expect(() => new layers.Add({ name: 'add_bad' }).apply([ops.zeros([2, 3]), ops.zeros([2, 4])])).toThrow(/Add "add_bad": inputs have incompatible shapes. Received shapes \[\(2, 3\), \(2, 4\)\]/);
    expect(() => new layers.Add({ name: 'add_batch' }).apply([ops.zeros([2, 3]), ops.zeros([3, 3])])).toThrow(/Add "add_batch": cannot merge tensors with different batch sizes. Received tensors with shapes \[\(2, 3\), \(3, 3\)\]/);
    expect(() => new layers.Add({ name: 'add_single' }).apply(ops.zeros([2, 3]))).toThrow(/Add "add_single": a merge layer should be called on a list of inputs/);
    expect(() => new layers.Subtract({ name: 'sub3' }).apply([ops.zeros([1]), ops.zeros([1]), ops.zeros([1])])).toThrow(/Subtract "sub3": a Subtract layer should be called on exactly 2 inputs. Received: input_shape=\[\(1,\), \(1,\), \(1,\)\]/);
    // After build, a later call with bad shapes still names the layer.
    const m = new layers.Maximum({ name: 'max_late' });
    m.apply([ops.zeros([2, 3]), ops.zeros([2, 3])]);
    expect(() => m.apply([ops.zeros([2, 3]), ops.zeros([2, 5])])).toThrow(/Maximum "max_late": inputs have incompatible shapes/);
  });

  it('config round trips', () => {
    for (const L of [layers.Add, layers.Subtract, layers.Multiply, layers.Average, layers.Maximum, layers.Minimum]) {
      const l = roundTrip(new L({ name: `${L.name.toLowerCase()}_rt` }));
      expect(l.className).toBe(L.name);
    }
  });
});

describe('Concatenate', () => {
  it('joins along the last axis by default, or any axis (negative too)', () => {
    const x = t([[1, 2], [3, 4]]);
    const y = t([[5], [6]]);
    expectClose(new layers.Concatenate().apply([x, y]) as Tensor, [[1, 2, 5], [3, 4, 6]], { shape: [2, 3] });
    expectClose(new layers.Concatenate(0).apply([x, t([[7, 8]])]) as Tensor, [[1, 2], [3, 4], [7, 8]], { shape: [3, 2] });
    const a = ops.reshape(ops.arange(8, undefined, undefined, 'float32'), [2, 2, 2]);
    expectClose(new layers.Concatenate({ axis: -2 }).apply([a, ops.ones([2, 1, 2])]) as Tensor, [[[0, 1], [2, 3], [1, 1]], [[4, 5], [6, 7], [1, 1]]], { shape: [2, 3, 2] });
    expectClose(layers.concatenate([x, y], 1), [[1, 2, 5], [3, 4, 6]]);
    expect((new layers.Concatenate().apply([keras.Input({ shape: [2] }), keras.Input({ shape: [3] })]) as Tensor).shape).toEqual([null, 5]);
    // A size-0 part.
    expectClose(new layers.Concatenate().apply([x, ops.zeros([2, 0])]) as Tensor, [[1, 2], [3, 4]]);
  });

  it('float64 gradients', () => {
    const c = new layers.Concatenate({ axis: 1, dtype: 'float64' });
    checkGrad((p, q) => c.apply([p, q]) as Tensor, [randomTensor([2, 2, 3], 1), randomTensor([2, 1, 3], 2)]);
  });

  it('masks: unmasked inputs count as all-true, masks are concatenated and reduced over the last axis', () => {
    const x = ops.ones([1, 3, 2]);
    const y = ops.ones([1, 3, 4]);
    const mx = b([[true, false, false]]);
    const out = new layers.Concatenate().apply([x, y], { mask: [mx, null] }) as Tensor;
    expectClose(maskOf(out)!, [[1, 1, 1]]);
    const my = b([[false, true, false]]);
    expectClose(maskOf(new layers.Concatenate().apply([x, y], { mask: [mx, my] }) as Tensor)!, [[1, 1, 0]]);
    // Along the time axis, the masks join in time.
    const time = new layers.Concatenate(1).apply([x, x], { mask: [mx, my] }) as Tensor;
    expect(time.shape).toEqual([1, 6, 2]);
    expectClose(maskOf(time)!, [[1, 0, 0, 0, 1, 0]]);
    expect(maskOf(new layers.Concatenate().apply([x, y]) as Tensor)).toBeUndefined();
  });

  it('config round trip and errors', () => {
    expect(roundTrip(new layers.Concatenate(1, { name: 'cat_rt' })).axis).toBe(1);
    expect(() => new layers.Concatenate({ name: 'cat_bad' }).apply([ops.zeros([2, 3]), ops.zeros([3, 3])])).toThrow(/Concatenate "cat_bad": a Concatenate layer requires inputs with matching shapes except for the concatenation axis \(axis=-1\). Received: input_shape=\[\(2, 3\), \(3, 3\)\]/);
    expect(() => new layers.Concatenate({ name: 'cat_rank' }).apply([ops.zeros([2, 3]), ops.zeros([2, 3, 1])])).toThrow(/Concatenate "cat_rank": a Concatenate layer requires inputs with matching shapes/);
    expect(() => new layers.Concatenate(3, { name: 'cat_axis' }).apply([ops.zeros([2, 3]), ops.zeros([2, 3])])).toThrow(/Concatenate "cat_axis": axis 3 is out of bounds for inputs of rank 2/);
    expect(() => new layers.Concatenate(0.5)).toThrow(/Concatenate: axis must be an integer, received 0.5/);
  });
});

describe('Dot', () => {
  it('2-D inputs: row-wise dot products as (batch, 1)', () => {
    const x = t([[1, 2, 3], [4, 5, 6]]);
    const y = t([[1, 0, -1], [2, 2, 2]]);
    expectClose(new layers.Dot(1).apply([x, y]) as Tensor, [[-2], [30]], { shape: [2, 1] });
    expectClose(new layers.Dot(-1).apply([x, y]) as Tensor, [[-2], [30]]);
    expectClose(layers.dot([x, y], 1), [[-2], [30]]);
  });

  it('axes pairs follow batch_dot: x dims without its axis, then y dims without batch and its axis', () => {
    // x (1, 2, 3), y (1, 3, 2), axes (1, 2)? contract x axis 2 with y axis 1 -> (1, 2, 2) = x @ y.
    const x = t([[[1, 2, 3], [4, 5, 6]]]);
    const y = t([[[1, 0], [0, 1], [1, 1]]]);
    expectClose(new layers.Dot([2, 1]).apply([x, y]) as Tensor, [[[4, 5], [10, 11]]], { shape: [1, 2, 2] });
    // axes (1, 1): x^T y per sample -> (1, 3, 2).
    const y2 = t([[[1, 2], [3, 4]]]);
    const ref = [0, 1, 2].map((i) => [0, 1].map((j) => [0, 1].reduce((s, k) => s + [[1, 2, 3], [4, 5, 6]][k][i] * [[1, 2], [3, 4]][k][j], 0)));
    expectClose(new layers.Dot({ axes: [1, 1] }).apply([x, y2]) as Tensor, [ref], { shape: [1, 3, 2] });
    // Rank 2 with rank 3: (2, 3) . (2, 3, 4) over (1, 1) -> (2, 4).
    const p = randomTensor([2, 3], 3);
    const q = randomTensor([2, 3, 4], 4);
    const pv = p.arraySync() as number[][];
    const qv = q.arraySync() as number[][][];
    const r = pv.map((row, n) => [0, 1, 2, 3].map((j) => row.reduce((s, v, k) => s + v * qv[n][k][j], 0)));
    expectClose(new layers.Dot(1).apply([p, q]) as Tensor, r, { shape: [2, 4], rtol: 1e-12 });
  });

  it('normalize: cosine similarity', () => {
    const x = t([[3, 4], [1, 0]]);
    const y = t([[4, 3], [0, 2]]);
    expectClose(new layers.Dot(1, true).apply([x, y]) as Tensor, [[24 / 25], [0]], { rtol: 1e-6 });
    expectClose(new layers.Dot(1, { normalize: true }).apply([x, x]) as Tensor, [[1], [1]], { rtol: 1e-6 });
  });

  it('float64 gradients (plain and normalized)', () => {
    const d = new layers.Dot([2, 1], false, { dtype: 'float64' });
    checkGrad((p, q) => d.apply([p, q]) as Tensor, [randomTensor([2, 2, 3], 5), randomTensor([2, 3, 2], 6)]);
    const n = new layers.Dot(1, { normalize: true, dtype: 'float64' });
    checkGrad((p, q) => n.apply([p, q]) as Tensor, [randomTensor([2, 3], 7), randomTensor([2, 3], 8)]);
  });

  it('symbolic inputs with an unknown batch', () => {
    const a = keras.Input({ shape: [4, 3] });
    expect((new layers.Dot([2, 2]).apply([a, a]) as Tensor).shape).toEqual([null, 4, 4]);
    expect((new layers.Dot(1, true).apply([keras.Input({ shape: [3] }), keras.Input({ shape: [3] })]) as Tensor).shape).toEqual([null, 1]);
    const ids = keras.Input({ shape: [4], dtype: 'int32' });
    const e = new layers.Embedding(10, 3, { maskZero: true }).apply(ids) as Tensor;
    expect(maskOf(new layers.Concatenate().apply([e, e]) as Tensor)!.shape).toEqual([null, 4]);
    expect(maskOf(new layers.Multiply().apply([e, e]) as Tensor)!.shape).toEqual([null, 4]);
  });

  it('no output mask; config round trip; errors', () => {
    const m = b([[true, false]]);
    expect(maskOf(new layers.Dot(2).apply([ops.ones([1, 2, 3]), ops.ones([1, 2, 3])], { mask: [m, m] }) as Tensor)).toBeUndefined();
    const clone = roundTrip(new layers.Dot([1, 2], { normalize: true, name: 'dot_rt' }));
    expect([clone.axes, clone.normalize]).toEqual([[1, 2], true]);
    expect(() => new layers.Dot(1, { name: 'dot_sizes' }).apply([ops.zeros([2, 3]), ops.zeros([2, 4])])).toThrow(/Dot "dot_sizes": incompatible input shapes: axis values 3 \(at axis 1\) != 4 \(at axis 1\). Full input shapes: \(2, 3\), \(2, 4\)/);
    expect(() => new layers.Dot(0, { name: 'dot_batch' }).apply([ops.zeros([2, 3]), ops.zeros([2, 3])])).toThrow(/Dot "dot_batch": cannot perform batch_dot over axis 0/);
    expect(() => new layers.Dot(1, { name: 'dot_three' }).apply([ops.zeros([2, 3]), ops.zeros([2, 3]), ops.zeros([2, 3])])).toThrow(/Dot "dot_three": a Dot layer should be called on a list of 2 inputs. Received: input_shape=\[\(2, 3\), \(2, 3\), \(2, 3\)\]/);
    expect(() => new layers.Dot(1, { name: 'dot_rank1' }).apply([ops.zeros([3]), ops.zeros([3])])).toThrow(/Dot "dot_rank1": cannot do batch_dot on inputs with rank < 2. Received inputs with shapes \(3,\) and \(3,\)/);
    expect(() => new layers.Dot(1, { name: 'dot_bs' }).apply([ops.zeros([2, 3]), ops.zeros([4, 3])])).toThrow(/Dot "dot_bs": cannot do batch_dot on inputs with different batch sizes/);
    expect(() => new layers.Dot([1, 2, 3] as never)).toThrow(/Dot: invalid format for argument axes: it should contain two elements. Received: axes=\[1,2,3\]/);
    expect(() => new layers.Dot([1, 0.5] as never)).toThrow(/Dot: invalid format for argument axes: list elements should be integers/);
  });
});

describe('in a functional model', () => {
  it('two inputs through Add, Concatenate and Dot, run eagerly by the model', () => {
    const a = keras.Input({ shape: [2] });
    const b2 = keras.Input({ shape: [2] });
    const sum = new layers.Add().apply([a, b2]) as Tensor;
    const cat = new layers.Concatenate().apply([sum, a]) as Tensor;
    const d = new layers.Dot(1).apply([sum, b2]) as Tensor;
    const model = new keras.Model({ inputs: [a, b2], outputs: [cat, d] });
    const [c, p] = model.apply([t([[1, 2], [3, 4]]), t([[10, 20], [30, 40]])]) as Tensor[];
    expectClose(c, [[11, 22, 1, 2], [33, 44, 3, 4]], { shape: [2, 4] });
    expectClose(p, [[11 * 10 + 22 * 20], [33 * 30 + 44 * 40]], { shape: [2, 1] });
  });
});
