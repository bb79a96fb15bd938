/**
 * An op whose outputs cannot be allocated raises a ResourceExhaustedError that names the op,
 * the outputs' shapes and dtypes and their bytes, on every backend, eager and in a compiled
 * graph; it leaves no tensor or native byte behind, and the backend goes on computing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { getBackend } from '../../lib/engine.js';
import type { CpuBackend } from '../../lib/backends/cpu/index.js';
import { nativeUnavailableReason } from '../parity/harness.js';

const { ops } = keras;
const reason = nativeUnavailableReason();
const backends = reason === null ? ['js', 'cpu'] : ['js'];

/** The error `fn` throws (failing the test when it throws nothing). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Live tensors, and native bytes on cpu. */
function footprint(backend: string): { tensors: number; bytes: number } {
  const tensors = keras.memory().backends[backend]?.numTensors ?? 0;
  return { tensors, bytes: backend === 'cpu' ? (getBackend('cpu') as CpuBackend).memoryBytes() : 0 };
}

describe.each(backends)('out of memory on %s', (backend) => {
  afterAll(() => keras.config.setBackend('js'));

  it('a creation op names itself and its 4e12-byte output', () => {
    keras.config.setBackend(backend);
    const before = footprint(backend);
    const error = thrown(() => ops.ones([1e6, 1e6]));
    expect(error, error.message).toBeInstanceOf(keras.ResourceExhaustedError);
    expect(error.message).toBe('fill: out of memory computing output (1000000, 1000000) float32 (4000000000000 bytes)');
    expect(footprint(backend), 'live tensors and bytes after the failed call').toEqual(before);
  });

  it('an op with inputs: the inputs survive and the backend goes on', () => {
    keras.config.setBackend(backend);
    const column = ops.ones([1e6, 1]);
    const row = ops.ones([1, 1e6]);
    const before = footprint(backend);
    const error = thrown(() => ops.matmul(column, row));
    expect(error, error.message).toBeInstanceOf(keras.ResourceExhaustedError);
    expect(error.message).toBe('matmul: out of memory computing output (1000000, 1000000) float32 (4000000000000 bytes)');
    expect(footprint(backend)).toEqual(before);
    const product = ops.matmul(ops.slice(column, [0, 0], [2, 1]), ops.slice(row, [0, 0], [1, 3]));
    expect(Array.from(product.dataSync()), 'a [2, 1] x [1, 3] product of ones afterwards').toEqual([1, 1, 1, 1, 1, 1]);
    for (const t of [column, row, product]) t.dispose();
  });
});

describe.skipIf(reason !== null)('out of memory in a compiled graph on cpu', () => {
  afterAll(() => keras.config.setBackend('js'));
  const messages = {
    native: 'graph node 0 (matmul of float32 (1000000, 1), float32 (1, 1000000)): out of memory computing float32 (1000000, 1000000)',
    interpreted: 'matmul: out of memory computing output (1000000, 1000000) float32 (4000000000000 bytes)',
  };

  for (const executor of ['native', 'interpreted'] as const) {
    it(`the ${executor} executor names the op and its output, sync and async; the graph runs again afterwards`, async () => {
      keras.config.setBackend('cpu');
      const graph = keras.trace((x: keras.Tensor, y: keras.Tensor) => [ops.sum(ops.matmul(x, y))], [
        { shape: [null, 1] },
        { shape: [1, null] },
      ]);
      const exe = getBackend('cpu').compile(graph, { executor });
      const small = [ops.ones([2, 1]), ops.ones([1, 3])];
      const huge = [ops.ones([1e6, 1]), ops.ones([1, 1e6])];
      const before = footprint('cpu');
      const sync = thrown(() => exe.runSync(huge));
      expect(sync, sync.message).toBeInstanceOf(keras.ResourceExhaustedError);
      expect(sync.message).toBe(messages[executor]);
      const async = await exe.run(huge).then(() => new Error('expected the run to reject'), (error: Error) => error);
      expect(async, async.message).toBeInstanceOf(keras.ResourceExhaustedError);
      expect(async.message).toBe(messages[executor]);
      expect(footprint('cpu'), 'live tensors and bytes after the failed runs').toEqual(before);
      const [sum] = exe.runSync(small);
      expect(Array.from(sum!.dataSync()), 'the graph on small feeds afterwards').toEqual([6]);
      for (const t of [...small, ...huge, sum!]) t.dispose();
    });
  }
});
