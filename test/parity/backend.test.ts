/**
 * The cpu backend's adapter: storage views, memory accounting, the native / view /
 * js-fallback split, attribute flattening, backendInfo, and cross-backend errors.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { getBackend, runOp, setBackend } from '../../lib/engine.js';
import { allOps } from '../../lib/ops/registry.js';
import { CpuBackend, nativeAttrs } from '../../lib/backends/cpu/index.js';
import { nativeUnavailableReason } from './harness.js';

const { ops } = keras;
const reason = nativeUnavailableReason();

describe('nativeAttrs', () => {
  it('flattens nested arrays row-major and drops null/undefined attrs', () => {
    expect(nativeAttrs({ paddings: [[1, 2], [3, 4]], constantValue: 0.5, axis: null, keepdims: true, dtype: 'float32', other: undefined })).toEqual({
      paddings: [1, 2, 3, 4],
      constantValue: 0.5,
      keepdims: true,
      dtype: 'float32',
    });
    expect(nativeAttrs({ padding: [[[0, 1]], [[2, 3]]], axes: [] })).toEqual({ padding: [0, 1, 2, 3], axes: [] });
  });
});

describe('cpu backend without its addon', () => {
  it('setBackend("cpu") throws NativeBackendUnavailableError saying why and how to build; js keeps working', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keras-no-addon-'));
    // Makes node-gyp-build (the addon loader) fail as it does where no binary matches.
    fs.writeFileSync(path.join(dir, 'preload.cjs'), `
      const Module = require('node:module');
      const load = Module._load;
      Module._load = function (request, ...rest) {
        if (request === 'node-gyp-build') throw new Error('simulated: no binary for this platform');
        return load.call(this, request, ...rest);
      };`);
    fs.writeFileSync(path.join(dir, 'main.mts'), `
      import * as keras from ${JSON.stringify(path.join(root, 'lib', 'index.ts'))};
      let error;
      try { keras.config.setBackend('cpu'); } catch (e) { error = { name: e.name, message: e.message }; }
      console.log(JSON.stringify({ error, backend: keras.config.backend(), sum: keras.ops.sum(keras.ops.ones([3])).item() }));`);
    try {
      const out = execFileSync(process.execPath, ['--require', path.join(dir, 'preload.cjs'), '--import', 'tsx', path.join(dir, 'main.mts')], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      const result = JSON.parse(out.trim().split('\n').pop()!);
      expect(result.error.name).toBe('NativeBackendUnavailableError');
      expect(result.error.message).toMatch(/cpu backend is unavailable.*simulated: no binary.*npx node-gyp rebuild.*'js' backend/);
      expect(result.backend).toBe('js');
      expect(result.sum).toBe(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(reason !== null)(`cpu backend adapter${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let cpu: CpuBackend;
  beforeEach(() => {
    setBackend('cpu');
    cpu = getBackend('cpu') as CpuBackend;
  });
  afterEach(() => setBackend('js'));

  it('computes on cpu: values, dtypes and the backend of results', async () => {
    const x = ops.convertToTensor([[1, 2, 3], [4, 5, 6]], 'float32');
    const y = ops.sum(ops.multiply(x, 2), 1);
    expect(y.backend).toBe(cpu);
    expect(y.dtype).toBe('float32');
    expect(y.arraySync()).toEqual([12, 30]);
    expect(await y.array()).toEqual([12, 30]);
    const b = ops.greater(x, 2.5);
    expect(b.arraySync()).toEqual([[false, false, true], [true, true, true]]);
    const i = ops.argmax(x, 1); // a js-fallback op at the time of writing
    expect(i.dtype).toBe('int32');
    expect(i.arraySync()).toEqual([2, 2]);
    for (const t of [x, y, b, i]) t.dispose();
  });

  it('dataSync and data() give arrays the caller owns: writing to them leaves the tensor as it was', async () => {
    for (const backendName of ['js', 'cpu']) {
      setBackend(backendName);
      const uploaded = ops.convertToTensor([1, 2, 3], 'float32'); // on cpu, an upload not yet moved to native memory
      const computed = ops.add(uploaded, 1);
      for (const [what, t, want] of [['uploaded', uploaded, [1, 2, 3]], ['computed', computed, [2, 3, 4]]] as const) {
        const sync = t.dataSync();
        sync[0] = -7;
        const later = await t.data();
        expect(Array.from(later), `${backendName} ${what}: after writing to dataSync's array`).toEqual(want);
        later[1] = -7;
        expect(Array.from(t.dataSync()), `${backendName} ${what}: after writing to data()'s array`).toEqual(want);
      }
      uploaded.dispose();
      computed.dispose();
    }
    setBackend('cpu');
  });

  it('reshape, identity and stopGradient share storage; values live until the last view is disposed', () => {
    const bytes0 = cpu.memoryBytes();
    const x = ops.convertToTensor(new Float32Array([1, 2, 3, 4, 5, 6]));
    const y = ops.reshape(x, [2, 3]);
    const z = ops.stopGradient(y);
    expect(y.storage).toBe(x.storage);
    expect(z.storage).toBe(x.storage);
    expect(cpu.memoryBytes() - bytes0).toBe(24);
    // A native kernel reading the [2, 3] view gets the values with that shape.
    const s = ops.sum(y, 0);
    expect(s.arraySync()).toEqual([5, 7, 9]);
    x.dispose();
    y.dispose();
    expect(z.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const m = ops.max(z, 1);
    expect(m.arraySync()).toEqual([3, 6]);
    for (const t of [z, s, m]) t.dispose();
    expect(cpu.memoryBytes()).toBe(bytes0);
  });

  it('a native kernel reading a reshape of a computed tensor reads its buffer, not a copy', () => {
    const a = ops.add(ops.zeros([4096]), 1); // [4096] float32 computed natively: 16 KiB
    const withA = cpu.memoryBytes();
    const r = ops.reshape(a, [64, 64]);
    const s = ops.sum(r, 0); // reads r's native tensor: a view of a's buffer
    expect(cpu.memoryBytes() - withA, 'bytes added by the reshape and a [64] sum (a copy would add 16384)').toBeLessThan(4096);
    expect(Array.from(s.dataSync())).toEqual(new Array(64).fill(64));
    a.dispose();
    expect(Array.from(ops.sum(r).dataSync()), 'the view after its base is disposed').toEqual([4096]);
    for (const t of [r, s]) t.dispose();
  });

  it('a slice that is a contiguous block of a computed tensor is a view of its buffer; other slices copy', () => {
    const x = ops.add(ops.reshape(ops.arange(4096, { dtype: 'float32' }), [16, 16, 16]), 0); // 16 KiB, computed natively
    const withX = cpu.memoryBytes();
    const step = ops.slice(x, [3, 0, 0], [1, 16, 16]); // a timestep of a time-major sequence
    expect(cpu.memoryBytes() - withX, 'bytes added by a block slice (a copy adds 1024)').toBe(0);
    const columns = ops.slice(x, [0, 0, 4], [16, 16, 2]);
    expect(cpu.memoryBytes() - withX, 'bytes added by a strided slice: its copy').toBeGreaterThanOrEqual(2048);
    x.dispose();
    expect(Array.from(step.dataSync()), 'the block after its base is disposed').toEqual(Array.from({ length: 256 }, (_, i) => 768 + i));
    expect(Array.from(ops.sum(columns, [0, 1]).dataSync())).toEqual([4, 5].map((c) => Array.from({ length: 256 }, (_, i) => i * 16 + c).reduce((a, b) => a + b, 0)));
    for (const t of [step, columns]) t.dispose();
  });

  it('memory stays flat over repeated tidy steps mixing native and fallback ops, and size-0 tensors', () => {
    const step = () =>
      keras.tidy(() => {
        const a = ops.reshape(ops.arange(12, { dtype: 'float32' }), [3, 4]);
        const b = ops.cumsum(ops.exp(ops.multiply(a, 0.1)), 1);
        const c = ops.concatenate([b, ops.zeros([0, 4])], 0);
        return ops.mean(ops.matmul(c, ops.transpose(a))).item();
      });
    const first = step();
    const live = keras.memory().backends.cpu.numTensors;
    const bytes = cpu.memoryBytes();
    for (let i = 0; i < 5; i++) expect(step()).toBeCloseTo(first, 4);
    expect(keras.memory().backends.cpu.numTensors).toBe(live);
    expect(cpu.memoryBytes()).toBe(bytes);
  });

  it('every registered primitive is native, a view, or a js fallback (exactly one)', () => {
    const native = cpu.nativeOps();
    const views = cpu.viewOps();
    const fallback = cpu.fallbackOps();
    const all = [...native, ...views, ...fallback].sort();
    expect(all).toEqual(allOps().map((o) => o.name).sort());
    expect(new Set(all).size).toBe(all.length);
    expect(views).toEqual(['identity', 'reshape', 'stopGradient']);
    for (const op of native) expect(cpu.backendInfo().ops).toContain(op);
    for (const op of fallback) expect(cpu.backendInfo().ops).not.toContain(op);
  });

  it('keras.config.backendInfo() reports the ISA, threads, CPU and op split', () => {
    const info = keras.config.backendInfo() as Record<string, unknown>;
    expect(info.backend).toBe('cpu');
    expect(['avx512', 'avx2', 'portable']).toContain(info.isa);
    expect(info.availableIsas).toContain('portable');
    expect(info.threads).toBeGreaterThan(0);
    expect(info.nativeOps).toEqual(cpu.nativeOps());
    expect(info.fallbackOps).toEqual(cpu.fallbackOps());
    expect((keras.config.backendInfo('js') as Record<string, unknown>).backend).toBe('js');
  });

  it('setIsa switches paths and rejects unknown ones', () => {
    const { isa } = cpu.backendInfo();
    cpu.setIsa('portable');
    expect(cpu.backendInfo().isa).toBe('portable');
    cpu.setIsa(isa);
    expect(() => cpu.setIsa('sse1')).toThrow(/sse1/);
  });

  it('mixing backends in one op is an error naming the op and both backends', () => {
    const a = ops.ones([2]);
    setBackend('js');
    const b = ops.ones([2]);
    expect(() => ops.add(a, b)).toThrow(/add: inputs live on different backends \(cpu and js\)/);
    a.dispose();
    b.dispose();
  });

  it('shape errors are raised before any kernel and name the op and shapes', () => {
    const a = ops.ones([2, 3]);
    const b = ops.ones([4]);
    expect(() => ops.add(a, b)).toThrow(/add.*\(2, 3\).*\(4,?\)/);
    a.dispose();
    b.dispose();
  });

  it('errors a native kernel finds are the classes js throws, eager and in compiled graphs', async () => {
    // A traced take cannot check its indices: the kernel does, in the compiled run.
    const x = ops.convertToTensor([1, 2, 3], 'float32');
    const bad = ops.convertToTensor([0, 7], 'int32');
    for (const backendName of ['js', 'cpu']) {
      setBackend(backendName);
      const [xb, ib] = [ops.convertToTensor(x.arraySync(), 'float32'), ops.convertToTensor(bad.arraySync(), 'int32')];
      // The primitive, not ops.take: the public op checks concrete indices before any kernel.
      let eager: unknown = null;
      try {
        runOp('gather', [xb, ib], { axis: 0 });
      } catch (error) {
        eager = error;
      }
      expect(eager, `${backendName}: gather with index 7 of 3`).toBeInstanceOf(keras.ValueError);
      expect((eager as Error).message).toMatch(/gather: index 7 is out of bounds for axis 0 with size 3/);
      const exe = getBackend(backendName).compile(keras.trace((a: Tensor, i: Tensor) => ops.take(a, i), [{ shape: [3], dtype: 'float32' }, { shape: [2], dtype: 'int32' }]));
      await expect(exe.run([xb, ib]), `${backendName}: a compiled run`).rejects.toBeInstanceOf(keras.ValueError);
      expect(() => exe.runSync([xb, ib]), `${backendName}: a synchronous compiled run`).toThrow(keras.ValueError);
      exe.dispose();
      xb.dispose();
      ib.dispose();
    }
    setBackend('js');
    x.dispose();
    bad.dispose();
  });
});
