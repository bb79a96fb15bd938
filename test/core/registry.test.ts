/**
 * The op registry's contract as runOp enforces it: the input count each primitive declares
 * (its arity) is checked before its shape inference, with an error that names the op, the
 * arity and what was passed; every primitive declares one.
 */
import { describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { runOp } from '../../lib/engine.js';
import { allOps } from '../../lib/ops/registry.js';

const { ops } = keras;

describe('primitive arity', () => {
  it('a wrong input count is a ValueError naming the op, its arity and the inputs', () => {
    const x = ops.convertToTensor([1, 2, 3], 'float32');
    const seed = ops.convertToTensor([1, 2], 'int32');
    const cases: [string, keras.Tensor[], Record<string, unknown>, RegExp][] = [
      ['add', [x], {}, /^add: takes 2 input tensors, received 1 \(\(3,\) float32\)$/],
      ['exp', [x, x], {}, /^exp: takes 1 input tensor, received 2 \(\(3,\) float32, \(3,\) float32\)$/],
      ['concatenate', [], { axis: 0 }, /^concatenate: takes at least 1 input tensor, received 0$/],
      ['randomUniform', [seed, x, x], { shape: [2], dtype: 'float32' }, /^randomUniform: takes 1 to 2 input tensors, received 3 /],
      ['fill', [x], { shape: [2], value: 1, dtype: 'float32' }, /^fill: takes 0 input tensors, received 1 /],
    ];
    for (const [op, inputs, attrs, message] of cases) {
      let error: unknown = null;
      try {
        runOp(op, inputs, attrs);
      } catch (e) {
        error = e;
      }
      expect(error, `${op} with ${inputs.length} inputs`).toBeInstanceOf(keras.ValueError);
      expect((error as Error).message).toMatch(message);
    }
    x.dispose();
    seed.dispose();
  });

  it('every primitive declares an arity its parity cases satisfy', async () => {
    const { CASES } = await import('../parity/cases.js');
    for (const op of allOps()) {
      const { min, max } = typeof op.arity === 'number' ? { min: op.arity, max: op.arity } : op.arity;
      expect(Number.isInteger(min) && min >= 0, `${op.name}: arity ${JSON.stringify(op.arity)}`).toBe(true);
      for (const c of CASES[op.name] ?? []) {
        const n = c.inputs.length;
        expect(n >= min && (max === undefined || n <= max), `${op.name}: a parity case with ${n} inputs, arity ${JSON.stringify(op.arity)}`).toBe(true);
      }
    }
  });
});
