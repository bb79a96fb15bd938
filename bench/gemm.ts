/**
 * SGEMM speed of the native CPU backend against the machine's own FP32 FMA peak
 * (measured in this run) and, when numpy is importable, OpenBLAS in the same run.
 *
 *   npx tsx bench/gemm.ts            (KERAS_CPU_ISA=avx2 to bench another path)
 *
 * Every figure is a median of several repetitions; peaks are re-measured next to
 * each GEMM so a noisy neighbour shifts both alike.
 */
import { spawnSync } from 'node:child_process';
import { loadNativeAddon, type NativeTensor } from '../lib/backends/cpu/native.js';

const native = loadNativeAddon();
const sizes = [1024, 2048];
const threadCounts = [...new Set([1, Math.min(2, native.backendInfo().threads)])];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function randomTensor(n: number): NativeTensor {
  const data = new Float32Array(n * n);
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
  return native.createTensor(data, [n, n], 'float32');
}

function sgemmGflops(n: number, reps: number): number {
  const a = randomTensor(n);
  const b = randomTensor(n);
  native.runKernel('matmul', [a, b])[0]!.dispose(); // warm packing buffers and caches
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = process.hrtime.bigint();
    const [c] = native.runKernel('matmul', [a, b]);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    c!.dispose();
    rates.push((2 * n ** 3) / seconds / 1e9);
  }
  a.dispose();
  b.dispose();
  return median(rates);
}

function peakGflops(threads: number): number {
  return median([0, 1, 2].map(() => native.peakFlops(threads, 0.25)));
}

const NUMPY_SCRIPT = `
import json, sys, time
import numpy as np
sizes, reps = json.loads(sys.argv[1]), int(sys.argv[2])
arch = None
try:
    import threadpoolctl
    info = [i for i in threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas']
    arch = info[0].get('architecture') if info else None
except Exception:
    pass
out = {'numpy': np.__version__, 'architecture': arch, 'gflops': {}}
for n in sizes:
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    a @ b
    rates = []
    for _ in range(reps if n <= 1024 else max(3, reps // 3)):
        t = time.perf_counter(); a @ b; rates.append(2 * n**3 / (time.perf_counter() - t) / 1e9)
    out['gflops'][str(n)] = sorted(rates)[len(rates) // 2]
print(json.dumps(out))
`;

interface NumpyResult {
  numpy: string;
  architecture: string | null;
  gflops: Record<string, number>;
}

function numpyGflops(threads: number): NumpyResult | undefined {
  // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be pinned on this machine for old
  // OpenBLAS builds; they slow a current numpy, so drop them for this child only.
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const run = spawnSync('python3', ['-c', NUMPY_SCRIPT, JSON.stringify(sizes), '9'], { env, encoding: 'utf8' });
  if (run.status !== 0) return undefined;
  return JSON.parse(run.stdout) as NumpyResult;
}

const info = native.backendInfo();
console.log(`cpu: ${info.cpu.brand} (${info.cpu.physicalCores} cores), isa ${info.isa}, ` +
  `kernel ${info.kernels.f32Gemm}, blocking ${JSON.stringify(info.kernels.f32GemmBlocking)}, ${info.compiler}`);

const rows: string[][] = [];
for (const threads of threadCounts) {
  native.setNumThreads(threads);
  const numpy = numpyGflops(threads);
  if (threads === threadCounts[0]) {
    console.log(numpy ? `numpy ${numpy.numpy}, OpenBLAS kernel ${numpy.architecture ?? 'unknown'}` : 'numpy: not importable, no OpenBLAS comparison');
  }
  for (const n of sizes) {
    const peakBefore = peakGflops(threads);
    const gflops = sgemmGflops(n, n <= 1024 ? 15 : 5);
    const peak = Math.max(peakBefore, peakGflops(threads));
    const blas = numpy?.gflops[String(n)];
    rows.push([
      String(threads), String(n), peak.toFixed(1), gflops.toFixed(1), `${((100 * gflops) / peak).toFixed(1)}%`,
      blas === undefined ? '-' : blas.toFixed(1), blas === undefined ? '-' : (gflops / blas).toFixed(2),
    ]);
  }
}
native.setNumThreads(0);

const header = ['threads', 'n', 'peak GF/s', 'sgemm GF/s', 'of peak', 'OpenBLAS GF/s', 'vs OpenBLAS'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
