/**
 * Helpers shared by the layer tests: weight-gradient checks and config round trips.
 */
import { expect } from 'vitest';
import * as keras from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import type { CallOptions, Layer } from '../../lib/layers/layer.js';
import { layerFromConfig } from '../../lib/layers/registry.js';
import { randomTensor } from '../helpers.js';

const { ops } = keras;

/**
 * Float64 central differences of sum(layer(x) * proj) with respect to each trainable
 * weight, against keras.grad taken with respect to the layer's variables.
 */
export function checkWeightGrads(layer: Layer, x: Tensor, callOptions: CallOptions = {}, eps = 1e-6): void {
  const probe = layer.apply(x, callOptions) as Tensor;
  const proj = randomTensor(probe.shape, 11, 0.5, 1.5);
  const loss = () => ops.sum(ops.multiply(layer.apply(x, callOptions) as Tensor, proj));
  const vars = layer.trainableWeights;
  expect(vars.length).toBeGreaterThan(0);
  const grads = keras.grad(() => loss(), { argnums: vars.map((_, i) => i) })(...vars) as unknown as Tensor[];
  vars.forEach((v, k) => {
    expect(v.dtype).toBe('float64');
    const base = Float64Array.from(v.value.dataSync());
    const at = (i: number, d: number) => {
      const p = base.slice();
      p[i] += d;
      v.assign(ops.reshape(ops.convertToTensor(p), v.shape));
      return loss().item();
    };
    const g = grads[k].dataSync();
    for (let i = 0; i < base.length; i++) {
      const numeric = (at(i, eps) - at(i, -eps)) / (2 * eps);
      if (Math.abs(g[i] - numeric) > 1e-7 + 1e-5 * Math.abs(numeric)) expect.fail(`weight ${v.name}[${i}]: autodiff ${g[i]}, finite differences ${numeric}`);
    }
    v.assign(ops.reshape(ops.convertToTensor(base), v.shape));
  });
}

/** getConfig -> fromConfig (direct and by class name) gives an equal config. */
export function roundTrip<T extends Layer>(layer: T): T {
  const config = layer.getConfig();
  const cls = layer.constructor as unknown as { fromConfig(c: Record<string, unknown>): T };
  const clone = cls.fromConfig(JSON.parse(JSON.stringify(config)));
  expect(clone.getConfig()).toEqual(config);
  expect(layerFromConfig(layer.className, config).getConfig()).toEqual(config);
  return clone;
}
