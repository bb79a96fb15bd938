import { describe, expect, it } from 'vitest';
import keras, * as named from '../../lib/index.js';

describe('package exports', () => {
  it('the default export and the named exports are the same API', () => {
    const keys = Object.keys(named).filter((k) => k !== 'default');
    expect(keys.length).toBeGreaterThan(20);
    for (const k of keys) expect((keras as Record<string, unknown>)[k], k).toBe((named as Record<string, unknown>)[k]);
  });

  it('exposes the Keras namespaces', () => {
    for (const ns of ['ops', 'layers', 'losses', 'metrics', 'optimizers', 'callbacks', 'initializers', 'regularizers', 'constraints', 'activations', 'random', 'datasets', 'config', 'utils']) {
      expect(keras, ns).toHaveProperty(ns);
    }
    expect(typeof keras.Model).toBe('function');
    expect(typeof keras.Sequential).toBe('function');
    expect(typeof keras.Input).toBe('function');
  });
});
