/**
 * The fused recurrent cells' input checks (lstmCell, gruCell, their gradients and sequences): the
 * native engine and the op definitions (every backend) name the op, the argument and the
 * shapes or dtypes involved. Values and gradients are in the parity suite
 * (test/parity/cases.ts) and the layers' tests (test/layers/rnn.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { runOp } from '../../lib/engine.js';
import type { DType } from '../../lib/index.js';
import { nativeError, size, type Input } from './kernel_harness.js';

const f32 = (shape: number[]): Input => ({ values: new Float32Array(size(shape)), shape, dtype: 'float32' });
const f64 = (shape: number[]): Input => ({ values: new Float64Array(size(shape)), shape, dtype: 'float64' });
const i32 = (shape: number[]): Input => ({ values: new Int32Array(size(shape)), shape, dtype: 'int32' });

/** The error the op's definition raises for inputs of these shapes and dtypes (js backend, eager). */
function definitionError(op: string, inputs: [number[], DType][]): Error {
  const tensors = inputs.map(([shape, dtype]) => keras.ops.zeros(shape, dtype));
  try {
    runOp(op, tensors);
  } catch (e) {
    return e as Error;
  } finally {
    for (const t of tensors) t.dispose();
  }
  throw new Error(`${op}: expected an error`);
}

describe('fused recurrent cells: errors', () => {
  beforeAll(() => keras.config.setBackend('js'));

  it('the native engine names the op, the argument and its shape or dtype', () => {
    expect(nativeError('lstmCell', [f32([2, 7]), f32([2, 7]), f32([2, 1])], {}).message).toMatch(/lstmCell: x must be \[batch, 4 \* units\] \(the gates i, f, c, o side by side\), received \(2, 7\)/);
    expect(nativeError('lstmCell', [f32([2, 8]), f32([2, 8]), f32([3, 2])], {}).message).toMatch(/lstmCell: c must be \(2, 2\) for x \(2, 8\), received \(3, 2\)/);
    expect(nativeError('lstmCell', [f32([2, 8]), f32([2, 4]), f32([2, 2])], {}).message).toMatch(/lstmCell: rec must be \(2, 8\) for x \(2, 8\), received \(2, 4\)/);
    expect(nativeError('lstmCell', [f32([2, 8]), f32([2, 8]), f64([2, 2])], {}).message).toMatch(/lstmCell: c must be float32 like x, received float64 \(2, 2\)/);
    expect(nativeError('lstmCell', [i32([2, 8]), i32([2, 8]), i32([2, 2])], {}).message).toMatch(/lstmCell: x must be float32 or float64, received int32 \(2, 8\)/);
    expect(nativeError('lstmCellGrad', [f32([2, 10]), f32([2, 2]), f32([2, 2]), f32([2, 3])], {}).message).toMatch(/lstmCellGrad: dc must be \(2, 2\) for acts \(2, 10\), received \(2, 3\)/);
    expect(nativeError('gruCell', [f32([2, 6]), f32([2, 9]), f32([2, 2]), f32([6])], {}).message).toMatch(/gruCell: rec must be \(2, 6\) for x \(2, 6\), received \(2, 9\)/);
    expect(nativeError('gruCell', [f32([2, 6]), f32([2, 6]), f32([2, 3]), f32([6])], {}).message).toMatch(/gruCell: h must be \(2, 2\) for x \(2, 6\), received \(2, 3\)/);
    expect(nativeError('gruCell', [f32([2, 6]), f32([2, 6]), f32([2, 2]), f32([2])], {}).message).toMatch(/gruCell: rb must be float32 \(6,\) for x \(2, 6\), received float32 \(2,\)/);
    expect(nativeError('gruCellGrad', [f32([2, 5]), f32([2, 5]), f32([2, 1]), f32([2, 1]), f32([5])], {}).message).toMatch(/gruCellGrad: acts must be \[batch, 3 \* units\]/);
    expect(nativeError('gruCellGrad', [f32([2, 6]), f32([2, 6]), f32([2, 2]), f32([2, 2]), f64([6])], {}).message).toMatch(/gruCellGrad: rb must be float32 \(6,\) for acts \(2, 6\), received float64 \(6,\)/);
    expect(nativeError('gruCell', [f32([2, 6]), f32([2, 6]), f32([2, 2])], {}).message).toMatch(/gruCell: expected 4 inputs, received 3/);
    expect(nativeError('lstmSequence', [f32([3, 2, 7]), f32([2, 8]), f32([2, 2]), f32([2, 2])], {}).message).toMatch(/lstmSequence: xs must be \[steps, batch, 4 \* units\] \(the gates i, f, c, o side by side\), received \(3, 2, 7\)/);
    expect(nativeError('lstmSequence', [f32([2, 8]), f32([2, 8]), f32([2, 2]), f32([2, 2])], {}).message).toMatch(/lstmSequence: xs must be \[steps, batch, 4 \* units\] \(the gates i, f, c, o side by side\), received \(2, 8\)/);
    expect(nativeError('lstmSequence', [f32([3, 2, 8]), f32([2, 4]), f32([2, 2]), f32([2, 2])], {}).message).toMatch(/lstmSequence: rk must be float32 \(2, 8\) for xs \(3, 2, 8\), received float32 \(2, 4\)/);
    expect(nativeError('lstmSequence', [f32([3, 2, 8]), f32([2, 8]), f32([2, 2]), f32([3, 2])], {}).message).toMatch(/lstmSequence: c0 must be \(2, 2\) for xs\[t\] \(2, 8\), received \(3, 2\)/);
    expect(nativeError('lstmSequence', [i32([3, 2, 8]), i32([2, 8]), i32([2, 2]), i32([2, 2])], {}).message).toMatch(/lstmSequence: xs must be float32 or float64, received int32 \(3, 2, 8\)/);
    expect(nativeError('lstmSequenceGrad', [f32([3, 2, 9]), f32([3, 2, 2]), f32([2, 2]), f32([2, 8]), f32([3, 2, 2]), f32([2, 2])], {}).message).toMatch(/lstmSequenceGrad: acts must be float32 or float64 \[steps, batch, 5 \* units\], received float32 \(3, 2, 9\)/);
    expect(nativeError('lstmSequenceGrad', [f32([3, 2, 10]), f32([3, 2, 2]), f32([2, 2]), f32([2, 8]), f32([2, 2, 2]), f32([2, 2])], {}).message).toMatch(/lstmSequenceGrad: dhs must be float32 \(3, 2, 2\) for acts \(3, 2, 10\), received float32 \(2, 2, 2\)/);
    expect(nativeError('lstmSequenceGrad', [f32([3, 2, 10]), f32([3, 2, 2]), f32([2, 2]), f64([2, 8]), f32([3, 2, 2]), f32([2, 2])], {}).message).toMatch(/lstmSequenceGrad: rk must be float32 \(2, 8\) for acts \(3, 2, 10\), received float64 \(2, 8\)/);
    expect(nativeError('gruSequenceGrad', [f32([3, 2, 6]), f32([3, 2, 6]), f32([3, 2, 2]), f32([2, 2]), f32([2, 6]), f32([3]), f32([3, 2, 2])], {}).message).toMatch(/gruSequenceGrad: rb must be float32 \(6,\) for acts \(3, 2, 6\), received float32 \(3,\)/);
    expect(nativeError('gruSequenceGrad', [f32([3, 2, 7]), f32([3, 2, 6]), f32([3, 2, 2]), f32([2, 2]), f32([2, 6]), f32([6]), f32([3, 2, 2])], {}).message).toMatch(/gruSequenceGrad: acts must be float32 or float64 \[steps, batch, 3 \* units\], received float32 \(3, 2, 7\)/);
    expect(nativeError('gruSequence', [f32([3, 2, 6]), f32([2, 6]), f64([2, 2]), f32([6])], {}).message).toMatch(/gruSequence: h0 must be float32 like xs\[t\], received float64 \(2, 2\)/);
    expect(nativeError('gruSequence', [f32([3, 2, 6]), f32([2, 6]), f32([2, 2]), f32([3])], {}).message).toMatch(/gruSequence: rb must be float32 \(6,\) for xs \(3, 2, 6\), received float32 \(3,\)/);
  });

  it('the op definitions raise the same on every backend', () => {
    expect(definitionError('lstmCell', [[[2, 7], 'float32'], [[2, 7], 'float32'], [[2, 1], 'float32']]).message).toMatch(/lstmCell: x must be \[batch, 4 \* units\] \(the gates i, f, c, o side by side\), received \(2, 7\)/);
    expect(definitionError('lstmCell', [[[2, 8], 'float32'], [[2, 8], 'float32'], [[2, 2], 'float64']]).message).toMatch(/lstmCell: c must be float32 like x, received float64 \(2, 2\)/);
    expect(definitionError('lstmCell', [[[2, 8], 'int32'], [[2, 8], 'int32'], [[2, 2], 'int32']]).message).toMatch(/lstmCell: x must be float32 or float64, received int32 \(2, 8\)/);
    expect(definitionError('lstmCell', [[[2, 8], 'float32'], [[2, 4], 'float32'], [[2, 2], 'float32']]).message).toMatch(/lstmCell: rec must be float32 \(2, 8\), received float32 \(2, 4\)/);
    expect(definitionError('gruCell', [[[2, 6], 'float32'], [[2, 9], 'float32'], [[2, 2], 'float32'], [[6], 'float32']]).message).toMatch(/gruCell: rec must be float32 \(2, 6\), received float32 \(2, 9\)/);
    expect(definitionError('gruCell', [[[2, 6], 'float32'], [[2, 6], 'float32'], [[2, 2], 'float32'], [[3], 'float32']]).message).toMatch(/gruCell: rb must be float32 \(6,\), received float32 \(3,\)/);
    expect(definitionError('lstmSequence', [[[2, 8], 'float32'], [[2, 8], 'float32'], [[2, 2], 'float32'], [[2, 2], 'float32']]).message).toMatch(/lstmSequence: xs must be \[steps, batch, 4 \* units\] \(the gates i, f, c, o side by side\), received \(2, 8\)/);
    expect(definitionError('lstmSequence', [[[3, 2, 8], 'float32'], [[2, 4], 'float32'], [[2, 2], 'float32'], [[2, 2], 'float32']]).message).toMatch(/lstmSequence: rk must be float32 \(2, 8\), received float32 \(2, 4\)/);
    expect(definitionError('lstmSequence', [[[3, 2, 8], 'float32'], [[2, 8], 'float32'], [[2, 2], 'float32'], [[3, 2], 'float32']]).message).toMatch(/lstmSequence: c0 must be \[batch, 2\] for xs\[t\] \(2, 8\), received \(3, 2\)/);
    expect(definitionError('lstmSequenceGrad', [[[3, 2, 10], 'float32'], [[3, 2, 2], 'float32'], [[2, 2], 'float32'], [[2, 8], 'float32'], [[2, 2, 2], 'float32'], [[2, 2], 'float32']]).message).toMatch(/lstmSequenceGrad: dhs must be float32 \(3, 2, 2\), received float32 \(2, 2, 2\)/);
    expect(definitionError('gruSequenceGrad', [[[3, 2, 6], 'float32'], [[3, 2, 6], 'float32'], [[3, 2, 2], 'float32'], [[2, 2], 'float32'], [[2, 6], 'float32'], [[6], 'float32'], [[3, 2, 3], 'float32']]).message).toMatch(/gruSequenceGrad: dhs must be float32 \(3, 2, 2\), received float32 \(3, 2, 3\)/);
    expect(definitionError('gruSequence', [[[3, 2, 6], 'int32'], [[2, 6], 'int32'], [[2, 2], 'int32'], [[6], 'int32']]).message).toMatch(/gruSequence: xs must be float32 or float64, received int32 \(3, 2, 6\)/);
    expect(definitionError('gruSequence', [[[3, 2, 6], 'float32'], [[2, 6], 'float32'], [[2, 2], 'float32'], [[3], 'float32']]).message).toMatch(/gruSequence: rb must be float32 \(6,\), received float32 \(3,\)/);
    expect(definitionError('gruCellGrad', [[[2, 6], 'float32'], [[2, 6], 'float32'], [[2, 2], 'float32'], [[3, 2], 'float32'], [[6], 'float32']]).message).toMatch(/gruCellGrad: dh must be \[batch, 2\] for acts \(2, 6\), received \(3, 2\)/);
  });
});
