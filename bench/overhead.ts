/**
 * Eager per-op overhead (`npm run bench -- overhead`): ns per `keras.ops.add` of two
 * 1-element float32 tensors on `cpu` and `js`, result disposed, beside PyTorch's
 * torch.add (and numpy's np.add) on 1-element arrays in the same run, and a breakdown of
 * where the cpu backend's time goes, layer by layer:
 *
 *   N-API floor       releaseTensor of an id that is not live: the cost of crossing into C++ at all
 *   tensor            raw createTensor of 1 element + releaseTensor: making and freeing an engine tensor
 *   native call       raw runOp('add') on the ids of two prepared tensors + releaseTensor
 *   runKernel         the same through addon.runKernel: handle objects in and out
 *   backend kernel    CpuBackend's kernel (handle lookup, attrs, output checks, storage) + release
 *   engine runOp      attrs check, shape/dtype inference, Tensor objects + dispose
 *   ops.add           the public op (argument conversion, dtype promotion) + dispose
 *   symbolic ops.add  the same JS dispatch on symbolic tensors: no kernel, no storage
 *
 * Each figure is the median over batches of 100k calls, batches interleaved across
 * variants so a busy machine affects them alike, with a full GC before each batch
 * (the garbage a batch makes within itself is still paid inside it). Target, reported and never asserted:
 * <= 1 us per ops.add on cpu.
 */
import { spawnSync } from 'node:child_process';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as keras from '../lib/index.js';
import { runOp } from '../lib/engine.js';
import type { Kernel, OutputSpec } from '../lib/backends/backend.js';
import { isNativeAvailable, loadNativeAddon } from '../lib/backends/cpu/native.js';
import { median, pythonEnv } from './common.js';

const { ops } = keras;

const CALLS = 100_000;
const BATCHES = 7;

// A full GC before each timed batch, so one variant's garbage (and native handle finalizers) is not paid by the next.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;


interface Variant {
  name: string;
  /** Runs `n` calls. */
  loop: (n: number) => void;
  cleanup?: () => void;
}

function one(backend: string, value: number): keras.Tensor {
  keras.config.setBackend(backend);
  try {
    return ops.convertToTensor(new Float32Array([value]));
  } finally {
    keras.config.setBackend('js');
  }
}

function variants(): { list: Variant[]; skipped: string[] } {
  const list: Variant[] = [];
  const skipped: string[] = [];
  if (isNativeAvailable()) {
    const addon = loadNativeAddon();
    const na = addon.createTensor(new Float32Array([1]), [1], 'float32');
    const nb = addon.createTensor(new Float32Array([2]), [1], 'float32');
    // Two floors under the native call: crossing into C++ at all, and making a tensor.
    const raw = addon.raw;
    const addId = addon.opId('add');
    const one32 = new Float32Array([1]);
    let sink = 0;
    list.push({
      name: 'cpu: N-API floor (releaseTensor of a stale id)',
      loop: (n) => {
        for (let i = 0; i < n; i++) sink += raw.releaseTensor(-1) ? 1 : 0;
      },
      cleanup: () => void sink,
    });
    list.push({
      name: 'cpu: tensor (createTensor 1 elt + release)',
      loop: (n) => {
        for (let i = 0; i < n; i++) raw.releaseTensor(raw.createTensor(one32, [1], 'float32'));
      },
    });
    list.push({
      name: 'cpu: native call (raw runOp + release)',
      loop: (n) => {
        for (let i = 0; i < n; i++) raw.releaseTensor(raw.runOp(addId, undefined, na.id, nb.id) as number);
      },
    });
    list.push({
      name: 'cpu: addon.runKernel (handles)',
      loop: (n) => {
        for (let i = 0; i < n; i++) addon.runKernel('add', [na, nb])[0]!.dispose();
      },
      cleanup: () => {
        na.dispose();
        nb.dispose();
      },
    });
    const a = one('cpu', 1);
    const b = one('cpu', 2);
    const be = a.backend!;
    const kernel = be.kernel('add') as Kernel;
    const specs: OutputSpec[] = [{ shape: [1], dtype: 'float32' }];
    list.push({
      name: 'cpu: backend kernel (CpuBackend)',
      loop: (n) => {
        for (let i = 0; i < n; i++) be.release(kernel([a, b], {}, specs)[0]);
      },
    });
    list.push({
      name: 'cpu: engine runOp',
      loop: (n) => {
        for (let i = 0; i < n; i++) runOp('add', [a, b])[0]!.dispose();
      },
    });
    list.push({
      name: 'cpu: ops.add',
      loop: (n) => {
        for (let i = 0; i < n; i++) ops.add(a, b).dispose();
      },
      cleanup: () => {
        a.dispose();
        b.dispose();
      },
    });
  } else skipped.push('cpu: native addon not loadable');
  const ja = one('js', 1);
  const jb = one('js', 2);
  list.push({
    name: 'js: ops.add',
    loop: (n) => {
      for (let i = 0; i < n; i++) ops.add(ja, jb).dispose();
    },
    cleanup: () => {
      ja.dispose();
      jb.dispose();
    },
  });
  const sa = keras.Input({ batchShape: [1], dtype: 'float32' });
  const sb = keras.Input({ batchShape: [1], dtype: 'float32' });
  list.push({
    name: 'symbolic: ops.add (dispatch, no kernel)',
    loop: (n) => {
      for (let i = 0; i < n; i++) ops.add(sa, sb);
    },
  });
  return { list, skipped };
}

// PyTorch (and numpy) child: median ns per call over batches of 100k 1-element adds.
const PYTHON = `
import json, time
out = {}
def bench(f):
    for _ in range(1000): f()
    ts = []
    for _ in range(${BATCHES}):
        t = time.perf_counter_ns()
        for _ in range(${CALLS}): f()
        ts.append((time.perf_counter_ns() - t) / ${CALLS})
    ts.sort(); return ts[len(ts) // 2]
try:
    import torch
    torch.set_num_threads(1)
    a = torch.ones(1, dtype=torch.float32); b = torch.ones(1, dtype=torch.float32)
    out['torch ' + torch.__version__.split('+')[0] + ': torch.add'] = bench(lambda: torch.add(a, b))
except ImportError:
    pass
try:
    import numpy as np
    x = np.ones(1, np.float32); y = np.ones(1, np.float32)
    out['numpy ' + np.__version__ + ': np.add'] = bench(lambda: np.add(x, y))
except ImportError:
    pass
out['python: empty lambda call'] = bench(lambda: None)
print(json.dumps(out))
`;

function python(): Record<string, number> | string {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', PYTHON], { env: pythonEnv(), encoding: 'utf8', timeout: 300_000 });
    if (r.status === 0) {
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
      if (Object.keys(res).some((k) => k.startsWith('torch'))) return res;
    }
  }
  return 'no python3 with torch importable';
}

/** Runs the per-op overhead benchmark and prints its table. */
export async function runOverheadBench(): Promise<void> {
  console.log(`eager per-op overhead: add of two 1-element float32 tensors, result disposed; median ns per call over ${BATCHES} batches of ${CALLS / 1000}k`);
  const { list, skipped } = variants();
  for (const v of list) v.loop(10_000); // warm-up: JIT, allocator, kernel caches
  const ns = new Map<string, number[]>(list.map((v) => [v.name, []]));
  for (let b = 0; b < BATCHES; b++) {
    // Rotate the order each batch so no variant always follows the same one.
    for (const v of [...list.slice(b % list.length), ...list.slice(0, b % list.length)]) {
      collectGarbage();
      const t0 = process.hrtime.bigint();
      v.loop(CALLS);
      ns.get(v.name)!.push(Number(process.hrtime.bigint() - t0) / CALLS);
    }
  }
  for (const v of list) v.cleanup?.();
  const med = new Map([...ns].map(([k, v]) => [k, median(v)]));

  const py = python();
  const torchNs = typeof py === 'string' ? undefined : Object.entries(py).find(([k]) => k.startsWith('torch'))?.[1];
  const rows: [string, number][] = [...med];
  if (typeof py !== 'string') rows.push(...Object.entries(py));
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log('');
  for (const [k, v] of rows) {
    const vsTorch = torchNs ? `  ${(v / torchNs).toFixed(2)}x torch.add` : '';
    console.log(`  ${k.padEnd(w)}  ${v.toFixed(0).padStart(6)} ns${vsTorch}`);
  }
  if (typeof py === 'string') console.log(`  PyTorch: ${py}`);
  for (const s of skipped) console.log(`  ${s}`);

  const get = (k: string) => med.get(k);
  const layers: [string, string | undefined, string][] = [
    ['native call', undefined, 'cpu: native call (raw runOp + release)'],
    ['CpuBackend kernel wrapper', 'cpu: native call (raw runOp + release)', 'cpu: backend kernel (CpuBackend)'],
    ['engine runOp (infer, Tensor objects)', 'cpu: backend kernel (CpuBackend)', 'cpu: engine runOp'],
    ['public op (convert, promote)', 'cpu: engine runOp', 'cpu: ops.add'],
  ];
  if (get('cpu: ops.add') !== undefined) {
    console.log('\nwhere ops.add on cpu spends its time (differences of the medians above; noise can make one negative):');
    for (const [label, below, at] of layers) {
      const v = get(at)! - (below ? get(below)! : 0);
      console.log(`  ${label.padEnd(38)} ${v.toFixed(0).padStart(6)} ns  (${((100 * v) / get('cpu: ops.add')!).toFixed(0)}%)`);
    }
    const total = get('cpu: ops.add')!;
    console.log(`  total ${total.toFixed(0)} ns per op: ${total <= 1000 ? 'within' : 'over'} the 1 us target`);
  }
}
