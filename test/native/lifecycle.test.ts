/** Tensor memory is returned by dispose() or by the GC, and async kernels leave the event loop free. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addon, randomArray } from './helpers.js';

const native = addon();
const root = path.resolve(import.meta.dirname, '../..');

describe('native tensor lifecycle', () => {
  it('frees the buffers of handles dropped without dispose() once they are garbage collected', () => {
    const script = `
      const native = require('node-gyp-build')(${JSON.stringify(root)});
      const before = native.memoryInfo().liveBytes;
      (function make() {
        for (let i = 0; i < 100; i++) native.createTensor(new Float32Array(10000), [100, 100], 'float32');
      })();
      const held = native.memoryInfo().liveBytes - before;
      const collect = (left) => {
        global.gc();
        const now = native.memoryInfo().liveBytes - before;
        if (now === 0 || left === 0) { console.log(JSON.stringify({ held, now })); return; }
        setImmediate(() => collect(left - 1));  // finalizers run between turns
      };
      collect(20);
    `;
    const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const { held, now } = JSON.parse(run.stdout) as { held: number; now: number };
    expect(held).toBe(100 * 40000);
    expect(now).toBe(0);
  });

  it('caches freed blocks for reuse and can hand them back', () => {
    const t = native.createTensor(new Float64Array(1000), [1000], 'float64');
    t.dispose();
    expect(native.memoryInfo().cachedBytes).toBeGreaterThanOrEqual(8000);
    native.releaseCache();
    expect(native.memoryInfo().cachedBytes).toBe(0);
  });

  it('keeps the event loop running while runKernelAsync computes', async () => {
    const n = 512;
    const a = native.createTensor(new Float32Array(randomArray(8 * n * n, 1)), [8, n, n], 'float32');
    const b = native.createTensor(new Float32Array(randomArray(n * n, 2)), [n, n], 'float32');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const started = ticks;
    const [out] = await native.runKernelAsync('matmul', [a, b]);
    clearInterval(timer);
    expect(out!.shape).toEqual([8, n, n]);
    expect(ticks - started, 'timer callbacks that ran during the matmul').toBeGreaterThan(0);
  });
});

describe('native loader', () => {
  it('explains that the cpu backend is unavailable, and why, when no binary can be found', () => {
    const script = `
      import { loadNativeAddon } from ${JSON.stringify(path.join(root, 'lib/backends/cpu/native.ts'))};
      try { loadNativeAddon(); console.log('loaded'); } catch (error) { console.log(error.name + ': ' + error.message); }
    `;
    // node-gyp-build looks in $KERAS_NODE_PREBUILD instead of the package when it is set.
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: root,
      env: { ...process.env, KERAS_NODE_PREBUILD: path.join(root, 'no-such-dir') },
    });
    expect(run.stdout).toMatch(/NativeBackendUnavailableError: The cpu backend is unavailable: the native addon could not be loaded \(No native build was found[\s\S]+\)\. Build it with `npx node-gyp rebuild`/);
  });
});
