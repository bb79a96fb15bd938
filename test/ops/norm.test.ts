/**
 * The fused normalization primitives (layerNorm, batchNorm and their backward passes)
 * behind ops.layerNormalization, ops.rmsNormalization, ops.fusedBatchNormalization and
 * the normalization layers: values against the composite formula computed in float64
 * from public ops, gradients against float64 finite differences (through the returned
 * batch statistics too), which calls take the fused path, and errors. Runs on js and,
 * where the addon loads, on cpu.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { popRecorder, pushRecorder, runOp, setBackend } from '../../lib/engine.js';
import { isNativeAvailable } from '../../lib/backends/cpu/native.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';

const { ops, layers } = keras;

/** Primitive ops `fn` runs. */
function primitivesOf(fn: () => unknown): Set<string> {
  const seen = new Set<string>();
  const recorder = { onOp: (node: { op: { name: string } }) => void seen.add(node.op.name) };
  pushRecorder(recorder);
  try {
    keras.tidy(fn);
  } finally {
    popRecorder(recorder);
  }
  return seen;
}

/** Keras' formula, composed of public ops in float64: (x - mean) / sqrt(var + eps) * gamma + beta over `axes`. */
function compositeNorm(x: Tensor, axes: number[], gamma: Tensor | null, beta: Tensor | null, eps: number, rms = false): Tensor {
  const x64 = ops.cast(x, 'float64');
  const mean = rms ? ops.zerosLike(ops.sum(x64, axes, true)) : ops.mean(x64, axes, true);
  const variance = ops.mean(ops.square(ops.subtract(x64, mean)), axes, true);
  let y = ops.divide(ops.subtract(x64, mean), ops.sqrt(ops.add(variance, eps)));
  if (gamma) y = ops.multiply(y, ops.cast(gamma, 'float64'));
  if (beta) y = ops.add(y, ops.cast(beta, 'float64'));
  return y;
}

/** gamma/beta for x normalized over `axes`, broadcastable against x. */
function paramFor(x: Tensor, axes: number[], seed: number, lo: number, hi: number): Tensor {
  const dims = axes.map((a) => x.shape[a]);
  return ops.reshape(randomTensor(dims, seed, lo, hi), x.shape.map((d, i) => (axes.includes(i) ? d : 1)));
}

const backends = ['js', ...(isNativeAvailable() ? ['cpu'] : [])];

for (const backend of backends) {
  describe(`fused normalization on ${backend}`, () => {
    beforeAll(() => setBackend(backend));
    afterAll(() => setBackend('js'));

    const layerCases: { shape: number[]; axes: number[]; fused: boolean }[] = [
      { shape: [4, 6], axes: [1], fused: true },
      { shape: [2, 3, 5], axes: [1, 2], fused: true },
      { shape: [3, 1, 4], axes: [2], fused: true },
      { shape: [5, 1], axes: [1], fused: true }, // one element per row: y = beta
      { shape: [2, 3, 4], axes: [0, 1, 2], fused: true },
      { shape: [2, 3, 4], axes: [1], fused: false }, // not trailing: composite
      { shape: [3, 4, 2], axes: [0, 2], fused: false },
    ];

    for (const dtype of ['float32', 'float64'] as const) {
      it(`layerNormalization (${dtype}) equals the float64 composite, fused exactly when the axes are trailing`, () => {
        layerCases.forEach(({ shape, axes, fused }, k) => {
          keras.tidy(() => {
            const x = ops.cast(randomTensor(shape, 11 + k, -3, 5), dtype);
            const gamma = ops.cast(paramFor(x, axes, 5 + k, 0.5, 2), dtype);
            const beta = ops.cast(paramFor(x, axes, 7 + k, -1, 1), dtype);
            const tol = dtype === 'float32' ? { rtol: 2e-5, atol: 2e-5 } : { rtol: 1e-12, atol: 1e-12 };
            const y = ops.layerNormalization(x, { gamma, beta, axis: axes, epsilon: 1e-3 });
            expect(y.dtype, `dtype for ${JSON.stringify(shape)} axes ${axes}`).toBe(dtype);
            expectClose(y, compositeNorm(x, axes, gamma, beta, 1e-3), tol);
            expectClose(ops.layerNormalization(x, { axis: axes }), compositeNorm(x, axes, null, null, 1e-7), tol);
            expectClose(ops.rmsNormalization(x, { scale: gamma, axis: axes, epsilon: 1e-5 }), compositeNorm(x, axes, gamma, null, 1e-5, true), tol);
            const prims = primitivesOf(() => ops.layerNormalization(x, { gamma, beta, axis: axes }));
            expect(prims.has('layerNorm'), `layerNorm primitive used for ${JSON.stringify(shape)} axes ${axes}`).toBe(fused);
          });
        });
      });

      it(`fusedBatchNormalization (${dtype}) equals the composite with the batch moments, any axis`, () => {
        const cases: [number[], number][] = [[[8, 3], -1], [[2, 4, 4, 5], 3], [[2, 3, 4, 2], 1], [[6, 1], 1], [[1, 4], 0], [[3, 5, 2], 0]];
        cases.forEach(([shape, axis], k) => {
          keras.tidy(() => {
            const x = ops.cast(randomTensor(shape, 21 + k, -2, 6), dtype);
            const a = (axis + shape.length) % shape.length;
            const axes = shape.map((_, i) => i).filter((i) => i !== a);
            const c = shape[a];
            const scale = ops.cast(randomTensor([c], 3 + k, 0.5, 2), dtype);
            const offset = ops.cast(randomTensor([c], 4 + k, -1, 1), dtype);
            const [y, mean, variance] = ops.fusedBatchNormalization(x, axis, { scale, offset, epsilon: 1e-3 });
            const tol = dtype === 'float32' ? { rtol: 2e-5, atol: 2e-5 } : { rtol: 1e-12, atol: 1e-12 };
            const bshape = shape.map((d, i) => (i === a ? d : 1));
            expectClose(y, compositeNorm(x, axes, ops.reshape(scale, bshape), ops.reshape(offset, bshape), 1e-3), tol);
            const [m, v] = ops.moments(ops.cast(x, 'float64'), axes);
            expectClose(mean, m, tol);
            expectClose(variance, v, tol);
            expect([mean.shape, variance.shape, mean.dtype]).toEqual([[c], [c], dtype]);
          });
        });
      });
    }

    it('leaves no tensor behind but its results: the ones/zeros it makes and the statistics run1 drops are freed', () => {
      const x = randomTensor([4, 6], 7, -2, 2);
      const live = () => keras.memory().numTensors;
      for (const [name, fn, results] of [
        ['layerNormalization', () => [ops.layerNormalization(x)], 1],
        ['rmsNormalization', () => [ops.rmsNormalization(x)], 1],
        ['layerNormalization with beta only', () => [ops.layerNormalization(x, { beta: ops.zeros([6], x.dtype) })], 2],
        ['fusedBatchNormalization', () => ops.fusedBatchNormalization(x, -1), 3],
      ] as const) {
        const before = live();
        const out = fn();
        expect(live() - before, `${name}: tensors left besides its inputs`).toBe(results);
        out.forEach((t) => t.dispose());
      }
      x.dispose();
    });

    it('gradients (float64) of the fused layer norm, rms norm and batch norm match finite differences', () => {
      const x = randomTensor([3, 2, 4], 31, -2, 2);
      const g = randomTensor([2, 4], 32, 0.5, 1.5);
      const b = randomTensor([2, 4], 33, -1, 1);
      checkGrad((xx, gg, bb) => ops.layerNormalization(xx, { gamma: gg, beta: bb, axis: [1, 2], epsilon: 1e-3 }), [x, g, b]);
      checkGrad((xx, gg) => ops.rmsNormalization(xx, { scale: gg, axis: [1, 2], epsilon: 1e-3 }), [x, g]);
      checkGrad((xx) => ops.layerNormalization(xx, { axis: -1 }), [x]);
      checkGrad((xx) => ops.layerNormalization(xx, { axis: 1 }), [x]); // composite path
      const s = randomTensor([4], 34, 0.5, 1.5);
      const o = randomTensor([4], 35, -1, 1);
      checkGrad((xx, ss, oo) => ops.fusedBatchNormalization(xx, -1, { scale: ss, offset: oo })[0], [x, s, o]);
      const s2 = randomTensor([2], 36, 0.5, 1.5);
      checkGrad((xx, ss) => ops.fusedBatchNormalization(xx, 1, { scale: ss })[0], [x, s2]);
    });

    it('gradients flow through the returned statistics too (mean, variance)', () => {
      const x = randomTensor([5, 3], 41, -2, 2);
      checkGrad((xx) => {
        const [y, mean, variance] = ops.fusedBatchNormalization(xx, 1);
        return ops.add(ops.sum(y, 0), ops.add(ops.multiply(mean, 3), variance));
      }, [x]);
    });

    it('the normalization layers take the fused primitives and match their formulas', () => {
      const x = ops.cast(randomTensor([6, 5], 51, -1, 3), 'float32');
      const ln = new layers.LayerNormalization({ epsilon: 1e-3 });
      expect(primitivesOf(() => ln.apply(x))).toContain('layerNorm');
      expectClose(ln.apply(x) as Tensor, compositeNorm(x, [1], null, null, 1e-3), { rtol: 2e-5, atol: 2e-5 });
      const bn = new layers.BatchNormalization({ momentum: 0.5, epsilon: 1e-3 });
      bn.build([null, 5]);
      const prims = primitivesOf(() => bn.apply(x, { training: true }));
      expect(prims.has('batchNorm'), 'batchNorm primitive in training').toBe(true);
      expect(prims.has('mean'), 'no separate moments in training').toBe(false);
      const [m, v] = ops.moments(x, [0]);
      // Two training calls so far (primitivesOf ran one): moving = 0.25 * init + 0.75 * batch.
      bn.apply(x, { training: true });
      expectClose(bn.movingMean.value, ops.multiply(m, 0.75), { rtol: 1e-5, atol: 1e-6 });
      expectClose(bn.movingVariance.value, ops.add(ops.multiply(v, 0.75), 0.25), { rtol: 1e-5, atol: 1e-6 });
    });

    it('errors name the op, the argument and the shapes', () => {
      const x = ops.zeros([2, 3]);
      expect(() => runOp('batchNorm', [x, ops.ones([3]), ops.zeros([3])], { axis: 0, epsilon: 1e-3 })).toThrow(/batchNorm: gamma must have the shape \(2,\) of the channels \(axis 0\) of x \(2, 3\), received \(3,\)/);
      expect(() => runOp('batchNorm', [x, ops.ones([3], 'float64'), ops.zeros([3])], { axis: 1, epsilon: 1e-3 })).toThrow(/batchNorm: gamma must be float32 like x, received float64 \(3,\)/);
      expect(() => runOp('batchNorm', [ops.zeros([2, 3], 'int32'), ops.ones([3], 'int32'), ops.zeros([3], 'int32')], { axis: 1, epsilon: 1e-3 })).toThrow(/batchNorm: expected a float tensor x, received int32 \(2, 3\)/);
      expect(() => runOp('batchNorm', [x, ops.ones([3]), ops.zeros([3])], { axis: 2, epsilon: 1e-3 })).toThrow(/batchNorm: axis 2 is out of range for x of shape \(2, 3\)/);
      expect(() => runOp('batchNorm', [x, ops.ones([3]), ops.zeros([3])], { axis: 1, epsilon: -1 })).toThrow(/batchNorm: attribute epsilon must be a non-negative number, received -1/);
      expect(() => runOp('batchNormGrad', [ops.zeros([2, 4]), x, ops.ones([3]), ops.zeros([3]), ops.ones([3])], { axis: 1, epsilon: 1e-3 })).toThrow(/batchNormGrad: dy must have the shape \(2, 3\) of x, received \(2, 4\)/);
      expect(() => runOp('batchNormGrad', [x, x, ops.ones([3]), ops.zeros([2]), ops.ones([3])], { axis: 1, epsilon: 1e-3 })).toThrow(/batchNormGrad: mean must have the shape \(3,\) of the channels \(axis 1\) of x \(2, 3\), received \(2,\)/);
      expect(() => ops.fusedBatchNormalization(x, 1, { scale: [1.5, 2.5] })).toThrow(/fusedBatchNormalization: scale must be 1-D with 3 entries of dtype float32 \(axis 1 of x \(2, 3\)\), received float32 \(2,\)/);
      expect(() => ops.fusedBatchNormalization(x, 2)).toThrow(/fusedBatchNormalization/);
    });
  });
}
