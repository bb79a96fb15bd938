import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { getBackend } from '../../lib/engine.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';

const { ops } = keras;
const f64 = (v: number[] | number) => ops.convertToTensor(v, 'float64');

describe('grad and valueAndGrad', () => {
  it('differentiate with respect to the selected arguments', () => {
    const f = (x: keras.Tensor, y: keras.Tensor) => ops.sum(ops.multiply(ops.square(x), y));
    const x = f64([1, 2]);
    const y = f64([3, 4]);
    expectClose(keras.grad(f)(x, y), [6, 16]);
    const [gx, gy] = keras.grad(f, { argnums: [0, 1] })(x, y);
    expectClose(gx, [6, 16]);
    expectClose(gy, [1, 4]);
    const [value, g] = keras.valueAndGrad(f, 1)(x, y);
    expectClose(value, 19);
    expectClose(g, [1, 4]);
  });

  it('accepts pytrees and hasAux', () => {
    const params = { w: f64([1, 2]), b: [f64(3)] };
    const f = (p: typeof params) => {
      const loss = ops.add(ops.sum(ops.square(p.w)), ops.multiply(p.b[0], 2));
      return [loss, { note: ops.sum(p.w) }];
    };
    const [[loss, aux], grads] = keras.valueAndGrad(f, { hasAux: true })(params);
    expectClose(loss, 11);
    expectClose(aux.note, 3);
    expectClose(grads.w, [2, 4]);
    expectClose(grads.b[0], 2);
  });

  it('gives zeros for sources the output does not depend on', () => {
    expectClose(keras.grad((x: keras.Tensor, y: keras.Tensor) => ops.sum(x), [0, 1])(f64([1]), f64([1, 2]))[1], [0, 0]);
  });

  it('stopGradient blocks the flow', () => {
    const g = keras.grad((x: keras.Tensor) => ops.sum(ops.multiply(x, ops.stopGradient(x))))(f64([2, 3]));
    expectClose(g, [2, 3]);
  });

  it('accumulates over several uses of one tensor', () => {
    const g = keras.grad((x: keras.Tensor) => ops.sum(ops.add(ops.multiply(x, x), ops.multiply(x, 3))))(f64([1, 2]));
    expectClose(g, [5, 7]);
  });

  it('computes higher-order gradients by nesting', () => {
    const d = (x: keras.Tensor) => keras.grad((z: keras.Tensor) => ops.sum(ops.power(z, 3)))(x);
    const d2 = keras.grad((x: keras.Tensor) => ops.sum(d(x)))(f64([2]));
    expectClose(d2, [12]);
  });

  it('refuses integer and non-scalar outputs, and integer sources, saying why', () => {
    expect(() => keras.grad((x: keras.Tensor) => ops.argmax(x))(f64([1, 2]))).toThrow(/fn returned dtype int32; integer and bool outputs have no gradient/);
    expect(() => keras.grad((x: keras.Tensor) => ops.square(x))(f64([1, 2]))).toThrow(/fn must return a scalar, received shape \[2\]/);
    expect(() => keras.grad((x: keras.Tensor) => ops.sum(x))(ops.convertToTensor([1, 2]))).toThrow(/dtype int32; only float tensors have gradients/);
  });

  it('leaves no tensors behind', () => {
    const x = f64([1, 2, 3]);
    const before = keras.memory().backends.js.numTensors;
    const g = keras.grad((t: keras.Tensor) => ops.sum(ops.exp(ops.multiply(t, 2))))(x);
    expect(keras.memory().backends.js.numTensors).toBe(before + 1);
    g.dispose();
  });
});

describe('second derivatives through backward primitives', () => {
  // The fused backward ops have no derivative of their own; a gradient reaching one must fail,
  // not pass zero (the second derivative of these functions is not zero).
  const w = f64([[0.5, -1, 2, 0.25]]);
  const x = f64([[1, 2, 3, 6]]);
  it('layer normalization: first order works, second order is a GradientError naming layerNormGrad', () => {
    const f = (u: keras.Tensor) => ops.sum(ops.multiply(ops.layerNormalization(u), w));
    const g1 = keras.grad(f)(x) as keras.Tensor;
    expect(Math.max(...Array.from(g1.dataSync()).map(Math.abs)), 'first derivative is not zero').toBeGreaterThan(0.01);
    expect(() => keras.grad((u: keras.Tensor) => ops.sum(ops.square(keras.grad(f)(u) as keras.Tensor)))(x)).toThrow(
      expect.objectContaining({ name: 'GradientError', message: expect.stringMatching(/layerNormGrad: second derivatives through fused layer normalization are not supported/) }),
    );
  });
  it('max pooling: second order is a GradientError naming maxPoolGrad', () => {
    const img = ops.reshape(f64([1, 5, 2, 4]), [1, 2, 2, 1]);
    const f = (u: keras.Tensor) => ops.sum(ops.square(ops.maxPool(u, 2)));
    expect(Array.from((keras.grad(f)(img) as keras.Tensor).dataSync())).toEqual([0, 10, 0, 0]);
    expect(() => keras.grad((u: keras.Tensor) => ops.sum(keras.grad(f)(u) as keras.Tensor))(img)).toThrow(/maxPoolGrad: second derivatives through max pooling are not supported/);
  });
});

describe('GradientTape', () => {
  it('watches trainable variables automatically, as tf.GradientTape; unwatched sources get zeros', () => {
    const w = new keras.Variable(f64([1, -1]));
    const frozen = new keras.Variable(f64([5, 5]), { trainable: false });
    const tape = new keras.GradientTape();
    const loss = tape.record(() => ops.sum(ops.multiply(ops.square(w.value), frozen.value)));
    const [gw, gf] = tape.gradient(loss, [w, frozen]);
    expectClose(gw, [10, -10]);
    expectClose(gf, [0, 0]);
    expect(() => tape.gradient(loss, [w])).toThrow(/non-persistent tape can be used once/);
  });

  it('keeps tensors alive that were disposed inside the recording until gradient()', () => {
    const x = f64([0.5]);
    const tape = new keras.GradientTape();
    tape.watch(x);
    const y = tape.record(() => {
      const e = ops.exp(x);
      const out = ops.sum(ops.multiply(e, e));
      e.dispose();
      return out;
    });
    expectClose(tape.gradient(y, [x])[0], [2 * Math.exp(1)], { rtol: 1e-12 });
  });
});

describe('GradientTape frees the backward as it goes', () => {
  // Layer normalization from separate ops (a custom layer's way), and the fused op as the reference.
  const composite = (x: keras.Tensor, gamma: keras.Tensor, beta: keras.Tensor) => {
    const [m, v] = ops.moments(x, [-1], true);
    const inv = ops.multiply(ops.rsqrt(ops.add(v, 1e-3)), gamma);
    return ops.add(ops.multiply(x, inv), ops.add(ops.multiply(ops.negative(m), inv), beta));
  };
  const x = f64([[1, 2, 4, 8], [-3, 0.5, 0, 2], [5, 5, 6, 7]]);
  const gamma = f64([0.5, -1, 2, 1.5]);
  const beta = f64([0.1, 0, -0.2, 3]);
  const dy = f64([[1, -1, 0.5, 2], [0, 3, -2, 1], [0.25, 0.5, -0.75, 1]]);

  it('keeps only the results: every intermediate gradient is freed, the caller\'s dy is not', () => {
    const before = keras.memory().numTensors;
    const tape = new keras.GradientTape();
    tape.watch(x, gamma, beta);
    // The forward's intermediates are disposed by tidy once the tape lets them go.
    const out = tape.record(() => keras.tidy(() => composite(x, gamma, beta)));
    const grads = tape.gradient(out, [x, gamma, beta], dy);
    expect(keras.memory().numTensors - before, 'tensors alive after gradient() besides out and the three gradients').toBe(4);
    const tape2 = new keras.GradientTape();
    tape2.watch(x, gamma, beta);
    const want = tape2.gradient(tape2.record(() => ops.layerNormalization(x, { gamma, beta, epsilon: 1e-3 })), [x, gamma, beta], dy);
    grads.forEach((g, i) => expectClose(g, want[i], { rtol: 1e-9, atol: 1e-12 }));
    expectClose(dy, [[1, -1, 0.5, 2], [0, 3, -2, 1], [0.25, 0.5, -0.75, 1]], { rtol: 0, atol: 0 });
  });

  it('keeps the gradient of a watched intermediate, and a tensor used twice by one op sums both uses', () => {
    const u = f64([0.5, -1]);
    const tape = new keras.GradientTape({ persistent: true });
    tape.watch(u);
    let h!: keras.Tensor;
    const y = tape.record(() => {
      h = ops.multiply(u, 3);
      tape.watch(h);
      const e = ops.exp(h);
      return ops.sum(ops.add(e, e)); // add's rule returns one dy for both inputs
    });
    for (let call = 0; call < 2; call++) {
      const [gu, gh] = tape.gradient(y, [u, h]);
      expectClose(gh, [2 * Math.exp(1.5), 2 * Math.exp(-3)], { rtol: 1e-12 });
      expectClose(gu, [6 * Math.exp(1.5), 6 * Math.exp(-3)], { rtol: 1e-12 });
    }
    tape.dispose();
  });
});

describe('trace and the graph IR', () => {
  const fn = (x: keras.Tensor, y: keras.Tensor) => ops.tanh(ops.add(ops.multiply(x, y), ops.convertToTensor([1, 2, 3], 'float32')));

  it('records nodes without computing, keeping a null batch dimension', () => {
    const before = keras.memory().backends.js.numTensors;
    const g = keras.trace(fn, [{ shape: [null, 3] }, { shape: [3] }]);
    expect(g.outputs[0].shape).toEqual([null, 3]);
    expect(g.outputs[0].isSymbolic).toBe(true);
    expect(() => g.outputs[0].dataSync()).toThrow(/symbolic tensor of shape \(None, 3\) has no values/);
    const json = g.toJSON();
    expect(json.nodes.map((n) => n.op)).toEqual(['multiply', 'add', 'tanh']);
    expect(json.placeholders.find((p) => p.kind === 'constant')).toMatchObject({ shape: [3], values: [1, 2, 3] });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    // Only the captured constant's graph-owned handle (and the temporary it came from) remain.
    expect(keras.memory().backends.js.numTensors - before).toBeLessThanOrEqual(2);
  });

  it('raises shape errors at trace time naming the op and shapes', () => {
    expect(() => keras.trace(fn, [{ shape: [null, 3] }, { shape: [4] }])).toThrow(/multiply: cannot broadcast shapes \(None, 3\) and \(4,\)/);
    expect(() => keras.trace((x: keras.Tensor) => ops.sum(x, 3), [{ shape: [2, 2] }])).toThrow(/sum: axis=3 is out of range/);
  });

  it('executes with the same values as eager, for any batch size', () => {
    const g = keras.trace(fn, [{ shape: [null, 3] }, { shape: [3] }]);
    for (const batch of [1, 4]) {
      const x = ops.reshape(ops.convertToTensor(Float32Array.from({ length: batch * 3 }, (_, i) => i / 7 - 0.5)), [batch, 3]);
      const y = ops.convertToTensor([0.5, -1, 2], 'float32');
      const [out] = keras.ir.run(g, [x, y]);
      expectClose(out, fn(x, y), { rtol: 0, atol: 0 });
    }
    expect(() => keras.ir.run(g, [ops.convertToTensor([[1, 2]], 'float32'), ops.convertToTensor([1, 2, 3], 'float32')])).toThrow(/graph input 0: expected shape \(None, 3\), received \(1, 2\)/);
  });

  it('an executable owns its graph\'s constants: after its dispose() the graph says it was disposed, where it ran and differentiated before', () => {
    const g = keras.trace(fn, [{ shape: [null, 3] }, { shape: [3] }]);
    const x = ops.convertToTensor([[1, 2, 3]], 'float32');
    const y = ops.convertToTensor([0.5, -1, 2], 'float32');
    const exe = getBackend('js').compile(g);
    expectClose(exe.runSync([x, y])[0], fn(x, y), { rtol: 0, atol: 0 });
    const constant = [...g.placeholders.values()].find((p) => p.kind === 'constant');
    expect(constant?.kind === 'constant' && constant.value.isDisposed, 'the captured constant before dispose()').toBe(false);
    expect(g.isDisposed).toBe(false);
    exe.dispose();
    exe.dispose(); // a second call does nothing
    expect(constant?.kind === 'constant' && constant.value.isDisposed, 'the captured constant after dispose()').toBe(true);
    expect(g.isDisposed).toBe(true);
    const disposed = /the graph was disposed \(an executable compiled from it was disposed, which frees the constants the graph captured\); trace the function again/;
    expect(() => keras.ir.run(g, [x, y])).toThrow(new RegExp(`^graph run: ${disposed.source}`));
    expect(() => keras.ir.differentiate(g)).toThrow(new RegExp(`^differentiate: ${disposed.source}`));
    expect(() => getBackend('js').compile(g)).toThrow(new RegExp(`^js: compile: ${disposed.source}`));
  });

  it('differentiates a graph into a graph whose values match eager gradients', () => {
    const loss = (x: keras.Tensor, y: keras.Tensor) => ops.sum(ops.square(fn(x, y)));
    const g = keras.trace(loss, [{ shape: [null, 3], dtype: 'float64' }, { shape: [3], dtype: 'float64' }]);
    const dg = keras.ir.differentiate(g);
    expect(dg.outputs.map((o) => o.shape)).toEqual([[], [null, 3], [3]]);
    const x = randomTensor([2, 3], 3);
    const y = randomTensor([3], 4);
    const [value, gx, gy] = keras.ir.run(dg, [x, y]);
    const [eagerGx, eagerGy] = keras.grad(loss, [0, 1])(x, y);
    expectClose(value, loss(x, y), { rtol: 1e-12 });
    expectClose(gx, eagerGx, { rtol: 1e-12 });
    expectClose(gy, eagerGy, { rtol: 1e-12 });
  });

  it('max pooling a ReLU\'s output: the graph routes only from positive maxima and skips ReLU\'s own pass, with eager\'s gradients', () => {
    const pooled = (t: keras.Tensor) => ops.maxPool(ops.relu(t), 2, 2);
    const w = randomTensor([2, 2, 2, 3], 7);
    // Alone, and with the ReLU's output also read elsewhere (its gradient then sums two uses).
    for (const [label, loss] of [
      ['pooled', (x: keras.Tensor) => ops.sum(ops.multiply(pooled(x), w))],
      [
        'also read',
        (x: keras.Tensor) => {
          const r = ops.relu(x);
          return ops.add(ops.sum(ops.multiply(ops.maxPool(r, 2, 2), w)), ops.sum(ops.square(r)));
        },
      ],
    ] as const) {
      const dg = keras.ir.differentiate(keras.trace(loss, [{ shape: [null, 4, 4, 3], dtype: 'float64' }]));
      const x = randomTensor([2, 4, 4, 3], 8); // both signs: some windows have no positive value
      const [, gx] = keras.ir.run(dg, [x]);
      // Eager gradients come from a tape, which sees no producers: the plain rules.
      expectClose(gx, keras.grad(loss)(x) as keras.Tensor, { rtol: 1e-12, atol: 1e-12 });
      const opsUsed = dg.nodes.map((n) => n.op.name);
      expect(dg.nodes.find((n) => n.op.name === 'maxPoolGrad')!.attrs.positiveMax, label).toBe(true);
      // ReLU's rule passes the pooling gradient through; a second use brings its where back.
      expect(opsUsed.includes('where'), label).toBe(label === 'also read');
    }
  });

  it('turns variable reads into inputs and assigns into updates', () => {
    const v = new keras.Variable(ops.convertToTensor([1, 2], 'float32'));
    const g = keras.trace((x: keras.Tensor) => {
      const out = ops.sum(ops.multiply(v.value, x));
      v.assign(ops.add(v.value, x));
      return out;
    }, [{ shape: [2] }]);
    expect(g.variableReads.map((r) => r.variable)).toEqual([v]);
    expect(g.updates).toHaveLength(1);
    expectClose(v.value, [1, 2]);
    const x = ops.convertToTensor([10, 20], 'float32');
    const [out1] = keras.ir.run(g, [x]);
    expectClose(out1, 50);
    expectClose(v.value, [11, 22]);
    const [out2] = keras.ir.run(g, [x]);
    expectClose(out2, 110 + 440);
  });

  it('grad inside a trace records the backward pass', () => {
    const g = keras.trace((x: keras.Tensor) => keras.grad((z: keras.Tensor) => ops.sum(ops.sin(z)))(x), [{ shape: [null], dtype: 'float64' }]);
    expect(g.nodes.some((n) => n.op.name === 'cos')).toBe(true);
    const [out] = keras.ir.run(g, [f64([0, 1])]);
    expectClose(out, [1, Math.cos(1)], { rtol: 1e-12 });
  });

  it('gathers of one tensor send their gradients back as one scatterAdd per axis, eagerly and in a graph', () => {
    // Rows taken one at a time (as an RNN takes its timesteps), row 2 twice, column 1 twice along
    // the other axis, and x used whole: d/dx[i][j] = 0.5 + row weight (i + 1; row 2: 3 + 3) + 20 on column 1.
    const loss = (x: keras.Tensor) => {
      let s = ops.sum(ops.multiply(x, 0.5));
      for (const t of [0, 1, 2, 3, 4, 2]) s = ops.add(s, ops.sum(ops.multiply(ops.take(x, t, 0), t + 1)));
      return ops.add(s, ops.sum(ops.multiply(ops.take(x, [1, 1], 1), 10)));
    };
    const want = Array.from({ length: 15 }, (_, k) => {
      const [i, j] = [Math.floor(k / 3), k % 3];
      return 0.5 + (i === 2 ? 6 : i + 1) + (j === 1 ? 20 : 0);
    });
    const x = randomTensor([5, 3], 7);
    expect(Array.from(keras.grad(loss)(x).values()), 'eager gradient').toEqual(want);
    const g = keras.trace((z: keras.Tensor) => keras.grad(loss)(z), [{ shape: [5, 3], dtype: 'float64' }]);
    // Eight gathers: one scatterAdd for the six rows of axis 0, one for the two columns of axis 1.
    expect(g.nodes.filter((n) => n.op.name === 'scatterAdd').length, 'scatterAdd nodes in the backward graph').toBe(2);
    const [gx] = keras.ir.run(g, [x]);
    expect(Array.from(gx!.values()), 'graph gradient').toEqual(want);
  });

  it('slices of one tensor along one axis send back one op: a concatenation where they tile the axis (unstack, split), else a scatterAdd; a lone slice keeps its pad', () => {
    // x [2, 4, 3] unstacked over axis 1 (a loop over timesteps, weight t + 1), and split along axis 2
    // into [1, 2] columns (weights 10, 20): d/dx[b][t][f] = (t + 1) + (f < 1 ? 10 : 20).
    const loss = (x: keras.Tensor) => {
      let s = ops.unstack(x, { axis: 1 }).map((xt, t) => ops.sum(ops.multiply(xt, t + 1))).reduce((a, b) => ops.add(a, b));
      const [left, right] = ops.split(x, [1], 2);
      s = ops.add(s, ops.add(ops.sum(ops.multiply(left!, 10)), ops.sum(ops.multiply(right!, 20))));
      return s;
    };
    const want = Array.from({ length: 24 }, (_, k) => ((k / 3) % 4 | 0) + 1 + (k % 3 < 1 ? 10 : 20));
    const x = randomTensor([2, 4, 3], 9);
    expect(Array.from(keras.grad(loss)(x).values()), 'eager gradient').toEqual(want);
    const g = keras.trace((z: keras.Tensor) => keras.grad(loss)(z), [{ shape: [2, 4, 3], dtype: 'float64' }]);
    const count = (op: string) => g.nodes.filter((n) => n.op.name === op).length;
    // Four slices of axis 1 and two of axis 2, each set tiling its axis: one concatenation each, no
    // scatterAdd and no pads (six pads before merging, then two scatterAdds).
    expect([count('scatterAdd'), count('pad')], 'scatterAdd and pad nodes in the backward graph').toEqual([0, 0]);
    expect(Array.from(keras.ir.run(g, [x])[0]!.values()), 'graph gradient').toEqual(want);
    // Rows 0-1 and 3 of axis 1 (row 2 untouched, so they do not tile it): one scatterAdd.
    const gaps = (z: keras.Tensor) => ops.add(ops.sum(ops.slice(z, [0, 0, 0], [2, 2, 3])), ops.sum(ops.multiply(ops.slice(z, [0, 3, 0], [2, 1, 3]), 2)));
    const partial = keras.trace((z: keras.Tensor) => keras.grad(gaps)(z), [{ shape: [2, 4, 3], dtype: 'float64' }]);
    expect(partial.nodes.map((n) => n.op.name).filter((n) => n === 'pad' || n === 'scatterAdd' || n === 'concatenate'), 'slices with a gap').toEqual(['concatenate', 'concatenate', 'scatterAdd']);
    const wantPartial = Array.from({ length: 24 }, (_, k) => [1, 1, 0, 2][(k / 3) % 4 | 0]);
    expect(Array.from(keras.ir.run(partial, [x])[0]!.values()), 'gradient of slices with a gap').toEqual(wantPartial);
    const lone = keras.trace((z: keras.Tensor) => keras.grad((v: keras.Tensor) => ops.sum(ops.slice(v, [0, 1, 0], [2, 2, 3])))(z), [{ shape: [2, 4, 3], dtype: 'float64' }]);
    expect(lone.nodes.map((n) => n.op.name).filter((n) => n === 'pad' || n === 'scatterAdd'), 'a lone slice').toEqual(['pad']);
  });

  it('a weight used by several 2-D matmuls gets one matmul of the concatenated rows as its gradient', () => {
    // loss = sum_i sum((x_i W) * c_i), so dL/dW = sum_i x_i^T c_i (three uses, as three timesteps).
    const xs = [randomTensor([4, 3], 11), randomTensor([2, 3], 12), randomTensor([4, 3], 13)];
    const cs = [randomTensor([4, 5], 14), randomTensor([2, 5], 15), randomTensor([4, 5], 16)];
    const loss = (w: keras.Tensor) => xs.map((x, i) => ops.sum(ops.multiply(ops.matmul(x, w), cs[i]!))).reduce((a, b) => ops.add(a, b));
    const want = xs.map((x, i) => ops.matmul(ops.transpose(x), cs[i]!)).reduce((a, b) => ops.add(a, b));
    const w = randomTensor([3, 5], 17);
    expectClose(keras.grad(loss)(w), want, { rtol: 1e-12 });
    const g = keras.trace((z: keras.Tensor) => keras.grad(loss)(z), [{ shape: [3, 5], dtype: 'float64' }]);
    // Three forward matmuls and one for the gradient (three plus two adds before).
    expect(g.nodes.filter((n) => n.op.name === 'matmul').length, 'matmul nodes in the traced gradient').toBe(4);
    expectClose(keras.ir.run(g, [w])[0]!, want, { rtol: 1e-12 });
  });

  it('a compiled executable runs asynchronously and applies updates', async () => {
    const v = new keras.Variable(ops.convertToTensor([0], 'float32'));
    const g = keras.trace(() => {
      v.assignAdd(ops.convertToTensor([1], 'float32'));
      return v.value;
    }, []);
    const exe = keras.config.getBackend().compile(g);
    await exe.run([]);
    const [out] = await exe.run([]);
    expectClose(out, [2]);
    expectClose(v.value, [2]);
    exe.dispose();
  });

  it('checkGrad harness agrees with analytic gradients through composite ops', () => {
    checkGrad((x) => ops.logsumexp(ops.multiply(x, x), 0), [randomTensor([3, 2], 9)]);
  });
});
