/** Tensor memory is returned by dispose() or by the GC, and async kernels leave the event loop free. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addon, randomArray } from './helpers.js';

const native = addon();
const root = path.resolve(import.meta.dirname, '../..');
/** The head of a child script: the addon as the library loads it, as `native`. */
const loadAddon = `import { loadNativeAddon } from ${JSON.stringify(path.join(root, 'lib/backends/cpu/native.ts'))};
const native = loadNativeAddon();`;

describe('native tensor lifecycle', () => {
  it('frees the buffers of handles dropped without dispose() once they are garbage collected', () => {
    const script = `${loadAddon}
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
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: root });
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

  it('survives a worker thread terminated while its async kernel runs, and async kernels still work after', () => {
    // Each worker starts a matmul of ~30 GFLOP (a good fraction of a second) and is terminated as
    // soon as it has started: the kernel finishes after the worker's environment is gone.
    const script = `${loadAddon}
      import { Worker } from 'node:worker_threads';
      const worker = \`
        const { parentPort } = require('node:worker_threads');
        const raw = require(${JSON.stringify(path.join(root, 'node_modules/node-gyp-build'))})(${JSON.stringify(root)});
        const n = 2500;
        const a = raw.createTensor(new Float32Array(n * n).fill(1), [n, n], 'float32');
        raw.runOpAsync(raw.opId('matmul'), undefined, a, a).then(() => parentPort.postMessage('finished'));
        parentPort.postMessage('started');
      \`;
      const events = [];
      for (let round = 0; round < 3; round++) {
        const w = new Worker(worker, { eval: true, execArgv: [] });  // CommonJS: not the parent's --input-type
        events.push(await new Promise((resolve) => w.on('message', resolve)));
        await w.terminate();
      }
      const a = native.createTensor(new Float32Array([1, 2, 3, 4]), [2, 2], 'float32');
      const [out] = await native.runKernelAsync('matmul', [a, a]);
      console.log(JSON.stringify({ events, product: Array.from(out.read()) }));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: root, timeout: 120_000 });
    expect(run.status, `exit status ${run.status} (signal ${run.signal}); stderr: ${run.stderr}`).toBe(0);
    const { events, product } = JSON.parse(run.stdout) as { events: string[]; product: number[] };
    expect(events, 'each worker was terminated before its matmul finished').toEqual(['started', 'started', 'started']);
    expect(product).toEqual([7, 10, 15, 22]);
  });
});

/** Runs `script` in a child node with --expose-gc and the addon as `native`; returns its JSON output. */
function child<T>(script: string): T {
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', `${loadAddon}\n${script}`], {
    encoding: 'utf8',
    cwd: root,
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe('native tensor handles', () => {
  it('frees exactly once: disposed handles are not finalized again, dropped ones are, and runKernel keeps no input alive', () => {
    const { held, afterDispose, afterGc } = child<{ held: number; afterDispose: number; afterGc: number }>(`
      const before = native.memoryInfo().liveBytes;
      (function make() {
        const a = native.createTensor(new Float32Array(1000), [1000], 'float32');
        const kept = [];
        for (let i = 0; i < 50; i++) kept.push(native.runKernel('add', [a, a])[0]);
        for (let i = 0; i < 50; i++) native.runKernel('negative', [a]);  // dropped undisposed
        globalThis.held = native.memoryInfo().liveBytes - before;
        for (const t of kept) t.dispose();
        a.dispose();
        globalThis.afterDispose = native.memoryInfo().liveBytes - before;
      })();
      const collect = (left) => {
        global.gc();
        const now = native.memoryInfo().liveBytes - before;
        if (now === 0 || left === 0) { console.log(JSON.stringify({ held: globalThis.held, afterDispose: globalThis.afterDispose, afterGc: now })); return; }
        setImmediate(() => collect(left - 1));
      };
      collect(20);
    `);
    expect(held).toBe(101 * 4000);
    expect(afterDispose).toBe(50 * 4000); // the 50 dropped outputs wait for the GC
    expect(afterGc).toBe(0);
  });

  it('tells V8 about native memory, to within the batching tolerance: growth at once, a drop once it has lasted a second', () => {
    const batch = 1 << 20;
    const r = child<{ grew: number; heldAfterFree: number; shrank: number; tinyGrew: number; tinyHeld: number; tinyShrank: number }>(`
      const src = new Float32Array(1 << 18);
      const small = new Float32Array(16);
      // V8 does not report this figure (process.memoryUsage().external counts ArrayBuffers only).
      const ext = () => native.memoryInfo().reportedExternalBytes;
      const second = () => new Promise((resolve) => setTimeout(resolve, 1100));
      // A drop is passed on at the first change after it has lasted a second.
      const touch = () => native.createTensor(small, [16], 'float32').dispose();
      const e0 = ext();
      const big = [];
      for (let i = 0; i < 64; i++) big.push(native.createTensor(src, [1 << 18], 'float32'));
      const e1 = ext();
      for (const t of big) t.dispose();
      const e2 = ext();
      await second();
      touch();
      const e3 = ext();
      const tiny = [];
      for (let i = 0; i < 20000; i++) tiny.push(native.createTensor(small, [16], 'float32'));
      const e4 = ext();
      for (const t of tiny) t.dispose();
      const e5 = ext();
      await second();
      touch();
      const e6 = ext();
      console.log(JSON.stringify({ grew: e1 - e0, heldAfterFree: e2 - e1, shrank: e3 - e0, tinyGrew: e4 - e3, tinyHeld: e5 - e4, tinyShrank: e6 - e3 }));
    `);
    expect(Math.abs(r.grew - 64 * (1 << 20)), 'reported growth of 64 MiB of tensors').toBeLessThanOrEqual(batch);
    expect(r.heldAfterFree, 'report change right after freeing them').toBe(0);
    expect(Math.abs(r.shrank), 'report a second later, against the start').toBeLessThanOrEqual(batch);
    expect(Math.abs(r.tinyGrew - 20000 * 64), 'reported growth of 20000 small tensors').toBeLessThanOrEqual(batch);
    expect(r.tinyHeld, 'report change right after freeing them').toBe(0);
    expect(Math.abs(r.tinyShrank), 'report a second later').toBeLessThanOrEqual(batch);
  });

  it('reports memory made and freed by each step of a loop once, at its peak, so the loop starts no full GCs', () => {
    const r = child<{ steps: number[]; atPeak: number; afterDrop: number; later: number; markCompacts: number }>(`
      const { PerformanceObserver, constants } = await import('node:perf_hooks');
      let markCompacts = 0;
      const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) markCompacts++; });
      obs.observe({ entryTypes: ['gc'] });
      const MB = 1 << 20;
      const ext = () => native.memoryInfo().reportedExternalBytes;
      // 16 MiB held throughout, 64 MiB made and freed by each step: live bytes swing from 80 MiB to
      // under half of that, as an eager train step's activations do.
      const base = native.createTensor(new Float32Array(4 * MB), [4 * MB], 'float32');
      const steps = [];
      for (let i = 0; i < 30; i++) {
        // A step: its 64 MiB, then a small JS allocation (which is where V8 would run a pending GC).
        const out = native.runKernel('broadcastTo', [base], { shape: [4, 4 * MB] });
        steps.push(ext());
        globalThis.sink = new Float32Array(1024);
        out[0].dispose();
        steps.push(ext());
      }
      const atPeak = ext();
      base.dispose();
      const afterDrop = ext();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      native.createTensor(new Float32Array(16), [16], 'float32').dispose();
      const later = ext();
      await new Promise((resolve) => setTimeout(resolve, 50));
      obs.disconnect();
      console.log(JSON.stringify({ steps, atPeak, afterDrop, later, markCompacts }));
    `);
    const MB = 1 << 20;
    // The report stays put, inside each step and between steps.
    expect(new Set(r.steps), 'reported bytes at and after the peak of each step').toEqual(new Set([r.steps[0]]));
    expect(r.atPeak).toBeGreaterThanOrEqual(80 * MB);
    expect(r.atPeak).toBeLessThanOrEqual(80 * MB + MB);
    expect(r.afterDrop, 'reported right after freeing everything').toBe(r.atPeak);
    expect(r.later, 'reported a second later').toBeLessThanOrEqual(MB);
    expect(r.markCompacts, 'full GCs over 30 steps (one per step when each drop was reported at once)').toBeLessThan(10);
  });

  it('views a contiguous tensor under another shape without a copy, and keeps its buffer alive', () => {
    const raw = native.raw;
    const before = native.memoryInfo();
    const base = native.createTensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], 'float32');
    const withBase = native.memoryInfo().liveBytes;
    const view = raw.reshapeView(base.id, [3, 2])!;
    expect(view, 'an id for the view').toBeTypeOf('number');
    expect(raw.tensorShape(view)).toEqual([3, 2]);
    expect(native.memoryInfo().liveBytes, 'live bytes with the view: no new buffer').toBe(withBase);
    base.dispose();
    // The view keeps the buffer alive and reads the values in row-major order.
    expect(Array.from(raw.readTensor(view))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => raw.reshapeView(view, [4, 2])).toThrowError(/reshapeView: cannot view \(3, 2\) \(6 elements\) as \(4, 2\)/);
    const again = raw.reshapeView(view, [6])!;
    expect(Array.from(raw.readTensor(again))).toEqual([1, 2, 3, 4, 5, 6]);
    raw.releaseTensor(view);
    raw.releaseTensor(again);
    expect(native.memoryInfo().liveBytes, 'every byte back once the last holder is released').toBe(before.liveBytes);
    expect(native.memoryInfo().liveTensors).toBe(before.liveTensors);
  });

  it('views a contiguous block of a tensor at an offset without a copy; other slices are left to the slice kernel', () => {
    const raw = native.raw;
    const before = native.memoryInfo();
    const base = native.createTensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4], 'float32');
    const withBase = native.memoryInfo().liveBytes;
    const step = raw.sliceView(base.id, [1, 0, 0], [1, 3, 4])!; // a timestep of a time-major sequence
    const rows = raw.sliceView(base.id, [0, 1, 0], [1, 2, 4])!; // rows inside one
    expect(native.memoryInfo().liveBytes, 'live bytes with two views').toBe(withBase);
    expect(raw.sliceView(base.id, [0, 0, 1], [2, 3, 2]), 'columns are not a block').toBeUndefined();
    expect(raw.sliceView(base.id, [0, 1, 0], [2, 2, 4]), 'rows of two steps are not a block').toBeUndefined();
    expect(() => raw.sliceView(base.id, [1, 2, 0], [1, 2, 4])).toThrowError(/sliceView: begin \(1, 2, 0\) and size \(1, 2, 4\) do not lie inside \(2, 3, 4\)/);
    base.dispose();
    expect(Array.from(raw.readTensor(step)), 'the step, read after its base is gone').toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    expect(raw.tensorShape(rows)).toEqual([1, 2, 4]);
    // A kernel reads the view at its offset.
    const sum = raw.runOp(raw.opId('sum'), ['axes', [2], 'keepdims', false], rows) as number;
    expect(Array.from(raw.readTensor(sum))).toEqual([4 + 5 + 6 + 7, 8 + 9 + 10 + 11]);
    for (const id of [sum, step, rows]) raw.releaseTensor(id);
    expect(native.memoryInfo().liveBytes, 'every byte back once the last holder is released').toBe(before.liveBytes);
  });

  it('names the op and the input for values that are not live tensors, and frees nothing it should not', () => {
    const a = native.createTensor(new Float32Array([1, 2]), [2], 'float32');
    const gone = native.createTensor(new Float32Array([1, 2]), [2], 'float32');
    gone.dispose();
    gone.dispose(); // a second dispose is a no-op
    expect(gone.disposed).toBe(true);
    expect(gone.shape).toEqual([]);
    expect(() => gone.read()).toThrow(/read: the tensor was already disposed/);
    const live = native.memoryInfo().liveBuffers;
    expect(() => native.runKernel('add', [a, gone])).toThrow(/add: input 1 was already disposed/);
    expect(() => native.runKernel('add', [a, { shape: [2] } as never])).toThrow(/add: input 1 is not a NativeTensor/);
    expect(() => native.runKernel('add', [a, 3 as never])).toThrow(/add: input 1 is not a NativeTensor/);
    expect(() => native.runKernel('add', [a, Object.create(Object.getPrototypeOf(a))])).toThrow(/add: input 1 was already disposed/);
    const b = native.createTensor(new Float32Array([1, 2, 3]), [3], 'float32');
    expect(() => native.runKernel('add', [a, b])).toThrow(expect.objectContaining({ name: 'ShapeError', message: expect.stringMatching(/add.*\(2,\).*\(3,\)/) }));
    expect(native.memoryInfo().liveBuffers).toBe(live + 1);
    b.dispose();
    // The engine frees nothing for ids it did not issue or already freed.
    expect(native.raw.releaseTensor(gone.id)).toBe(false);
    expect(native.raw.releaseTensor(-1)).toBe(false);
    expect(native.raw.releaseTensor(0.5)).toBe(false);
    expect(native.raw.releaseTensor(a.id + 2 ** 32)).toBe(false); // a's slot, another generation
    expect(native.raw.tensorShape(a.id + 2 ** 32)).toBeUndefined();
    expect(Array.from(a.read())).toEqual([1, 2]);
    // A reused slot gives a new id: the stale handle still reads as disposed.
    const reused = native.createTensor(new Float32Array([7]), [1], 'float32');
    expect(reused.id).not.toBe(gone.id);
    expect(() => native.runKernel('negative', [gone])).toThrow(/negative: input 0 was already disposed/);
    reused.dispose();
    // Handle objects that are not (or no longer) tied to a tensor read as disposed instead of failing.
    expect(Object.create(Object.getPrototypeOf(a)).disposed).toBe(true);
    expect(Object.create(Object.getPrototypeOf(a)).size).toBe(0);
    a.dispose();
  });

  it('takes attrs as a list of names and values, and rejects malformed lists naming the op', () => {
    const { raw } = native;
    const matmul = raw.opId('matmul');
    const a = native.createTensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], 'float32');
    const b = native.createTensor(new Float32Array([1, 0, 2, 1, 0, 3]), [2, 3], 'float32');
    // a b^T: [[1+0+6, 1+0+9], [4+0+12, 4+0+18]]; an undefined value is left out (the default).
    const id = raw.runOp(matmul, ['transposeA', undefined, 'transposeB', true], a.id, b.id) as number;
    expect(Array.from(raw.readTensor(id))).toEqual([7, 10, 16, 22]);
    raw.releaseTensor(id);
    const live = native.memoryInfo().liveTensors;
    expect(() => raw.runOp(matmul, { transposeB: true } as never, a.id, b.id)).toThrow(/^matmul: attrs must be an array of names and values$/);
    expect(() => raw.runOp(matmul, ['transposeB'], a.id, b.id)).toThrow(/matmul: attrs must alternate names and values \(odd length 1\)/);
    expect(() => raw.runOp(matmul, [1, true] as never, a.id, b.id)).toThrow(/matmul: attrs\[0\] must be an attribute name/);
    expect(() => raw.runOp(matmul, ['transposeB', {}] as never, a.id, b.id)).toThrow(/matmul: attribute 'transposeB' has an unsupported type/);
    expect(() => raw.runOp(raw.opId('reshape'), ['shape', [3, 'x']] as never, a.id)).toThrow(/reshape: attribute 'shape' must hold numbers/);
    expect(native.memoryInfo().liveTensors).toBe(live);
    // A getter in the list that frees an input runs before the inputs are looked up.
    const list: unknown[] = ['transposeB', true];
    Object.defineProperty(list, 1, { get: () => (a.dispose(), true) });
    expect(() => raw.runOp(matmul, list as never, a.id, b.id)).toThrow(/matmul: input 0 was already disposed/);
    b.dispose();
  });

  it('survives runKernel being re-entered from a getter of its inputs array', () => {
    const a = native.createTensor(new Float32Array([1, 2]), [2], 'float32');
    const b = native.createTensor(new Float32Array([10, 20]), [2], 'float32');
    let inner: Float32Array | undefined;
    const inputs = [a, a];
    Object.defineProperty(inputs, 1, {
      get() {
        const [t] = native.runKernel('multiply', [a, b]);
        inner = t!.read() as Float32Array;
        t!.dispose();
        return b;
      },
    });
    const [out] = native.runKernel('add', inputs);
    expect(Array.from(out!.read())).toEqual([11, 22]);
    expect(Array.from(inner!)).toEqual([10, 40]);
    out!.dispose();
    a.dispose();
    b.dispose();
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
