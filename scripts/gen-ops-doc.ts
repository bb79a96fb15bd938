/**
 * Generates docs/ops.md from the op registry and the keras.ops exports: every public
 * function by module, whether it is a primitive or a composite, the primitives it ran
 * on a sample call (recorded by an engine hook, so the list is what the code does, not
 * what someone wrote down), and per backend whether a kernel exists (cpu: native, view
 * or js fallback). `npm run docs` rewrites the file; test/parity/ops-doc.test.ts fails
 * when it is stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as keras from '../lib/index.js';
import type { Tensor } from '../lib/index.js';
import { backendName, getBackend, popRecorder, pushRecorder, setBackend } from '../lib/engine.js';
import { allOps, getOp } from '../lib/ops/registry.js';
import type { CpuBackend } from '../lib/backends/cpu/index.js';
import * as elementwise from '../lib/ops/elementwise.js';
import * as reduction from '../lib/ops/reduction.js';
import * as shape from '../lib/ops/shape.js';
import * as indexing from '../lib/ops/indexing.js';
import * as creation from '../lib/ops/creation.js';
import * as linalg from '../lib/ops/linalg.js';
import * as nn from '../lib/ops/nn.js';
import * as common from '../lib/ops/common.js';

const { ops } = keras;

/** keras.ops modules in the order of lib/ops/index.ts; the module is the category. */
const MODULES: [string, Record<string, unknown>][] = [
  ['elementwise', elementwise],
  ['reduction', reduction],
  ['shape', shape],
  ['indexing', indexing],
  ['creation', creation],
  ['linalg', linalg],
  ['nn', nn],
  ['common', common],
];

type Fn = (...args: unknown[]) => unknown;

/**
 * Sample calls for functions whose signatures the generic candidates below do not fit.
 * Each returns the argument list; tensors are made on the js backend.
 */
const SAMPLES: Record<string, () => unknown[]> = {
  einsum: () => ['ij,jk->ik', mat(2, 3), mat(3, 2)],
  meshgrid: () => [vec(2), vec(3)],
  scatter: () => [ops.convertToTensor([[0], [2]]), vec(2), [3]],
  scatterUpdate: () => [mat(3, 2), ops.convertToTensor([[0], [2]]), mat(2, 2)],
  sliceUpdate: () => [mat(3, 3), [1, 0], mat(2, 2)],
  oneHot: () => [ops.convertToTensor([0, 2, 1]), 3],
  dotProductAttention: () => [ops.ones([1, 4, 2, 3]), ops.ones([1, 4, 2, 3]), ops.ones([1, 4, 2, 3])],
  separableConv: () => [ops.ones([1, 5, 5, 2]), ops.ones([3, 3, 2, 1]), ops.ones([1, 1, 2, 4])],
  depthwiseConv: () => [ops.ones([1, 5, 5, 2]), ops.ones([3, 3, 2, 1])],
  convTranspose: () => [ops.ones([1, 5, 5, 2]), ops.ones([3, 3, 4, 2])],
  linspace: () => [0, 1, 5],
  eye: () => [3],
  tri: () => [3],
  full: () => [[2, 3], 1.5],
  psnr: () => [mat(2, 3), mat(2, 3), 1],
  threshold: () => [mat(2, 3), 0.5, 0],
  topK: () => [mat(2, 3), 2],
  moments: () => [mat(2, 3), [0]],
  tensordot: () => [mat(2, 3), mat(3, 2), 1],
  sparseCategoricalCrossentropy: () => [ops.convertToTensor([0, 2]), mat(2, 3)],
  takeAlongAxis: () => [mat(2, 3), ops.convertToTensor([[0], [2]]), 1],
  unstack: () => [mat(2, 3)],
  arange: () => [5],
  fullLike: () => [mat(2, 3), 2],
  moveaxis: () => [mat(2, 3), 0, 1],
  swapaxes: () => [mat(2, 3), 0, 1],
  squeeze: () => [ops.ones([2, 1, 3])],
  tile: () => [mat(2, 3), [2, 1]],
  batchNormalization: () => [mat(2, 3), vec(3), vec(3), 1],
  convertToTensor: () => [[1.5, 2]],
  binaryCrossentropy: () => [mat(2, 3), mat(2, 3)], // probabilities (the default), not logits
};

/** A float32 matrix with values in (0.1, 0.9): inside every elementwise domain. */
function mat(r: number, c: number): Tensor {
  return ops.reshape(ops.convertToTensor(Float32Array.from({ length: r * c }, (_, i) => 0.1 + (0.8 * ((i * 7) % (r * c))) / (r * c))), [r, c]);
}

function vec(n: number): Tensor {
  return ops.convertToTensor(Float32Array.from({ length: n }, (_, i) => 0.2 + 0.1 * i));
}

const spd = () => ops.convertToTensor([[2, 0.5, 0], [0.5, 2, 0.3], [0, 0.3, 2]], 'float32');
const img = () => ops.ones([1, 5, 5, 2]);

/** Generic argument lists, tried in order (those matching the function's arity first). */
const CANDIDATES: (() => unknown[])[] = [
  () => [mat(2, 3)],
  () => [mat(2, 3), mat(2, 3)],
  () => [mat(2, 3), mat(2, 3), mat(2, 3)],
  () => [mat(2, 3), 1],
  () => [mat(2, 3), 0.2, 0.8],
  () => [mat(2, 3), ops.convertToTensor([0, 1])],
  () => [spd()],
  () => [spd(), spd()],
  () => [[mat(2, 3), mat(2, 3)]],
  () => [[2, 3]],
  () => [3],
  () => [mat(2, 3), [3, 2]],
  () => [mat(2, 3), [1, 0]],
  () => [img(), ops.ones([3, 3, 2, 2])],
  () => [img(), 2],
  () => [],
];
/** Number of arguments of each candidate, known without making tensors. */
const CANDIDATE_ARITY = [1, 2, 3, 2, 3, 2, 1, 2, 1, 1, 1, 2, 2, 2, 2, 0];

/** Primitive ops run by one sample call of `fn`, or null when no sample call succeeded. */
function samplePrimitives(name: string, fn: Fn): string[] | null {
  const seen = new Set<string>();
  const recorder = { onOp: (node: { op: { name: string } }) => void seen.add(node.op.name) };
  const attempt = (args: () => unknown[]): boolean =>
    keras.tidy(() => {
      const list = args();
      seen.clear();
      pushRecorder(recorder);
      try {
        fn(...list);
        return true;
      } catch {
        return false;
      } finally {
        popRecorder(recorder);
      }
    });
  if (SAMPLES[name]) return attempt(SAMPLES[name]) ? [...seen].sort() : null;
  const all = CANDIDATES.map((_, i) => i);
  const order = [...all.filter((i) => CANDIDATE_ARITY[i] === fn.length), ...all.filter((i) => CANDIDATE_ARITY[i] !== fn.length)];
  for (const i of order) if (attempt(CANDIDATES[i])) return [...seen].sort();
  return null;
}

interface CpuStatus {
  native: Set<string>;
  views: Set<string>;
  fallback: Set<string>;
}

function cpuStatusOf(prim: string, cpu: CpuStatus): string {
  if (cpu.native.has(prim)) return 'native';
  if (cpu.views.has(prim)) return 'view';
  if (cpu.fallback.has(prim)) return 'js fallback';
  return 'missing';
}

/** Renders docs/ops.md. Needs the native addon (the cpu column reports its kernels). */
export function generateOpsDoc(): string {
  const saved = backendName();
  const cpuBackend = getBackend('cpu') as CpuBackend;
  const js = getBackend('js');
  const cpu: CpuStatus = { native: new Set(cpuBackend.nativeOps()), views: new Set(cpuBackend.viewOps()), fallback: new Set(cpuBackend.fallbackOps()) };
  const prims = allOps();
  const primNames = new Set(prims.map((o) => o.name));
  const lines: string[] = [];
  const out = (s = '') => lines.push(s);

  setBackend('js');
  const rows: { module: string; name: string; kind: string; used: string; js: string; cpu: string }[] = [];
  try {
    for (const [module, exports] of MODULES) {
      // Sorted: the order of a module's exports differs between loaders (tsx, vitest).
      for (const [name, value] of Object.entries(exports).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (typeof value !== 'function' || !(name in ops)) continue;
        const used = samplePrimitives(name, value as Fn);
        const isPrimitive = primNames.has(name) && (used === null || used.includes(name));
        let kind: string;
        let jsCol: string;
        let cpuCol: string;
        if (isPrimitive) {
          kind = 'primitive';
          jsCol = js.kernel(name) ? 'kernel' : 'missing';
          cpuCol = cpuStatusOf(name, cpu);
        } else if (used === null) {
          kind = 'composite';
          jsCol = cpuCol = 'not sampled';
        } else if (used.length === 0) {
          kind = name === 'convertToTensor' ? 'upload' : 'no kernel (views/metadata only)';
          jsCol = cpuCol = '-';
        } else {
          kind = 'composite';
          jsCol = used.every((p) => js.kernel(p)) ? 'yes' : `missing: ${used.filter((p) => !js.kernel(p)).join(', ')}`;
          const notNative = used.filter((p) => !cpu.native.has(p) && !cpu.views.has(p));
          cpuCol = notNative.length === 0 ? 'native' : notNative.length === used.length ? 'js fallback' : `partly (fallback: ${notNative.join(', ')})`;
        }
        rows.push({ module, name, kind, used: used === null ? '' : used.join(', '), js: jsCol, cpu: cpuCol });
      }
    }
  } finally {
    setBackend(saved);
  }

  const count = (s: Set<string>) => prims.filter((p) => s.has(p.name)).length;
  out('# keras.ops: primitives, composites and backend coverage');
  out();
  out('<!-- Generated by `npm run docs` (scripts/gen-ops-doc.ts); do not edit. test/parity/ops-doc.test.ts fails when this file is stale. -->');
  out();
  out(`${rows.length} public \`keras.ops\` functions, carried by ${prims.length} primitive ops. ` +
    `On \`cpu\`: ${count(cpu.native)} primitives run a native kernel, ${count(cpu.views)} are views (they share their input's storage), ` +
    `${count(cpu.fallback)} still run the js kernel on downloaded values (**js fallback**, correct but slow: values cross between native memory and JS on every call).`);
  out();
  out('- **primitive**: one registry entry (`defineOp`: attributes, shape inference, gradient rule) and one kernel per backend.');
  out('- **composite**: a function of other ops; its gradient comes for free. "Primitives run" lists what one sample call');
  out('  (small float32 inputs, defined in scripts/gen-ops-doc.ts) executed; other arguments (options, dtypes, axes) may run others.');
  out('- cpu **native**: every primitive it ran has a native kernel (or is a view); **partly**: the listed ones fall back to js.');
  out('- The `cpu` column depends on the native build the doc was generated with; the parity suite (test/parity) checks every');
  out('  primitive on `cpu` against `js`, outputs and gradients, on every ISA path.');
  out();
  out('## Primitives');
  out();
  out('| op | category | attributes | gradient | js | cpu |');
  out('| --- | --- | --- | --- | --- | --- |');
  for (const p of [...prims].sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name))) {
    const def = getOp(p.name);
    out(`| \`${p.name}\` | ${p.category} | ${def.attrs.map((a) => `\`${a}\``).join(', ') || '-'} | ${def.grad ? 'yes' : def.gradientUnsupported ? 'no (GradientError)' : 'no'} | ${js.kernel(p.name) ? 'kernel' : 'missing'} | ${cpuStatusOf(p.name, cpu)} |`);
  }
  for (const [module] of MODULES) {
    const mine = rows.filter((r) => r.module === module);
    if (!mine.length) continue;
    out();
    out(`## keras.ops: ${module} (lib/ops/${module}.ts)`);
    out();
    out('| function | kind | primitives run (sample call) | js | cpu |');
    out('| --- | --- | --- | --- | --- |');
    for (const r of mine) out(`| \`${r.name}\` | ${r.kind} | ${r.used || '-'} | ${r.js} | ${r.cpu} |`);
  }
  out();
  return lines.join('\n');
}

/** Where docs/ops.md lives. */
export const OPS_DOC_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'ops.md');

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  fs.writeFileSync(OPS_DOC_PATH, generateOpsDoc());
  console.log(`wrote ${path.relative(process.cwd(), OPS_DOC_PATH)}`);
}
