import { describe, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { checkGrad, expectClose, randomTensor } from '../helpers.js';
const { ops } = keras;

describe('harness', () => {
  it('checks a gradient through broadcasting', () => {
    expectClose(ops.add([[1, 2]], [[10], [20]]), [[11, 12], [21, 22]]);
    checkGrad((a, b) => ops.multiply(ops.exp(a), ops.tanh(b)), [randomTensor([2, 3], 1), randomTensor([3], 2)]);
  });
});
