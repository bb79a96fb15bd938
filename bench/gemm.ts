/**
 * SGEMM speed of the native CPU backend against the machine's own FP32 FMA peak
 * and, when numpy is importable, OpenBLAS, all measured in this run.
 *
 *   npx tsx bench/gemm.ts            (KERAS_CPU_ISA=avx2 to bench another path)
 *
 * Shared machines are noisy, so measurements are interleaved: each repetition
 * measures the peak (a short FMA loop), then our SGEMM, then OpenBLAS's, back to
 * back, and the ratios are taken within a repetition. Reported figures are
 * medians over repetitions (ratios too: the median of per-repetition ratios).
 * Ratios are given twice: by wall-clock time, and by CPU time (work per
 * CPU-second of the process, all threads), which time-sharing with other
 * processes does not distort.
 */
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { loadNativeAddon, type NativeTensor } from '../lib/backends/cpu/native.js';
import { median, pythonEnv } from './common.js';

const native = loadNativeAddon();
const sizes = [1024, 2048];
const repetitions = (n: number) => (n <= 1024 ? 15 : 7);
const threadCounts = [...new Set([1, Math.min(2, native.backendInfo().threads)])];


function randomTensor(n: number): NativeTensor {
  const data = new Float32Array(n * n);
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
  return native.createTensor(data, [n, n], 'float32');
}

/** GFLOP/s by wall clock, and GFLOP per CPU-second (per busy core). */
interface Rate {
  wall: number;
  cpu: number;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

function timeSgemm(a: NativeTensor, b: NativeTensor, n: number): Rate {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const [c] = native.runKernel('matmul', [a, b]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = cpuSeconds(cpu0);
  c!.dispose();
  return { wall: (2 * n ** 3) / seconds / 1e9, cpu: (2 * n ** 3) / cpu / 1e9 };
}

function timePeak(threads: number): Rate {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const gflops = native.peakFlops(threads, 0.1);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { wall: gflops, cpu: (gflops * seconds) / cpuSeconds(cpu0) };
}

// A numpy child that times one a @ b per request line "n", answering GFLOP/s.
const NUMPY_SERVER = `
import json, sys, time
import numpy as np
arch = None
try:
    import threadpoolctl
    info = [i for i in threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas']
    arch = info[0].get('architecture') if info else None
except Exception:
    pass
if arch is None:
    # No threadpoolctl: ask the OpenBLAS bundled with numpy's wheel for its core kernel.
    try:
        import ctypes, glob, os
        lib = ctypes.CDLL(glob.glob(os.path.join(os.path.dirname(np.__file__), '..', 'numpy.libs', '*openblas*'))[0])
        for name in ('scipy_openblas_get_corename64_', 'scipy_openblas_get_corename', 'openblas_get_corename'):
            if hasattr(lib, name):
                getattr(lib, name).restype = ctypes.c_char_p
                arch = getattr(lib, name)().decode()
                break
    except Exception:
        pass
print(json.dumps({'numpy': np.__version__, 'blas': arch}), flush=True)
cache = {}
for line in sys.stdin:
    n = int(line)
    if n not in cache:
        cache[n] = (np.random.rand(n, n).astype(np.float32), np.random.rand(n, n).astype(np.float32))
        cache[n][0] @ cache[n][1]
    a, b = cache[n]
    t, c = time.perf_counter(), time.process_time(); a @ b
    dt, dc = time.perf_counter() - t, time.process_time() - c
    # OpenBLAS workers busy-wait ~0.1 s after a call: let them fall asleep before
    # answering, or they would take cores from the next measurement of ours.
    time.sleep(0.25)
    print(2 * n**3 / dt / 1e9, 2 * n**3 / max(dc, 1e-9) / 1e9, flush=True)
`;

class NumpyTimer {
  private constructor(
    private readonly child: ReturnType<typeof spawn>,
    private readonly lines: AsyncIterator<string>,
    readonly about: string,
  ) {}

  static async start(threads: number): Promise<NumpyTimer | undefined> {
    const env = pythonEnv({ OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) });
    const child = spawn('python3', ['-c', NUMPY_SERVER], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const failed = new Promise<undefined>((resolve) => {
      child.on('error', () => resolve(undefined));
      child.on('exit', () => resolve(undefined));
    });
    const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await Promise.race([lines.next(), failed]);
    if (!first || first.done) return undefined;
    const { numpy, blas } = JSON.parse(first.value) as { numpy: string; blas: string | null };
    return new NumpyTimer(child, lines, `numpy ${numpy}, OpenBLAS core ${blas ?? 'unknown'}`);
  }

  async time(n: number): Promise<Rate> {
    this.child.stdin!.write(`${n}\n`);
    const line = await this.lines.next();
    const [wall, cpu] = String(line.value).split(' ').map(Number);
    return { wall: wall!, cpu: cpu! };
  }

  close(): void {
    this.child.stdin!.end();
  }
}

interface Row {
  threads: number;
  n: number;
  peak: number;
  sgemm: number;
  ofPeak: number;
  blas?: number;
  vsBlas?: number;
  /** The same ratios by CPU time. */
  cpuOfPeak: number;
  cpuVsBlas?: number;
}

async function main(): Promise<void> {
  const info = native.backendInfo();
  console.log(`cpu: ${info.cpu.brand} (${info.cpu.physicalCores} cores), isa ${info.isa}, ` +
    `kernel ${info.kernels.f32Gemm}, blocking ${JSON.stringify(info.kernels.f32GemmBlocking)}, ${info.compiler}`);
  const rows: Row[] = [];
  for (const threads of threadCounts) {
    native.setNumThreads(threads);
    const numpy = await NumpyTimer.start(threads);
    if (threads === threadCounts[0]) console.log(numpy ? numpy.about : 'numpy: not importable, no OpenBLAS comparison');
    for (const n of sizes) {
      const a = randomTensor(n), b = randomTensor(n);
      timeSgemm(a, b, n); // warm packing buffers and caches
      if (numpy) await numpy.time(n);
      const peaks: number[] = [], rates: number[] = [], blas: number[] = [];
      const ofPeak: number[] = [], vsBlas: number[] = [], cpuOfPeak: number[] = [], cpuVsBlas: number[] = [];
      for (let r = 0; r < repetitions(n); r++) {
        const peak = timePeak(threads);
        const rate = timeSgemm(a, b, n);
        peaks.push(peak.wall);
        rates.push(rate.wall);
        ofPeak.push(rate.wall / peak.wall);
        cpuOfPeak.push(rate.cpu / peak.cpu);
        if (numpy) {
          const other = await numpy.time(n);
          blas.push(other.wall);
          vsBlas.push(rate.wall / other.wall);
          cpuVsBlas.push(rate.cpu / other.cpu);
        }
      }
      a.dispose();
      b.dispose();
      rows.push({
        threads, n, peak: median(peaks), sgemm: median(rates), ofPeak: median(ofPeak),
        blas: numpy ? median(blas) : undefined, vsBlas: numpy ? median(vsBlas) : undefined,
        cpuOfPeak: median(cpuOfPeak), cpuVsBlas: numpy ? median(cpuVsBlas) : undefined,
      });
    }
    numpy?.close();
  }
  native.setNumThreads(0);

  const header = ['threads', 'n', 'peak GF/s', 'sgemm GF/s', 'of peak', 'OpenBLAS GF/s', 'vs OpenBLAS', '| CPU time: of peak', 'vs OpenBLAS'];
  const cells = rows.map((r) => [
    String(r.threads), String(r.n), r.peak.toFixed(1), r.sgemm.toFixed(1), `${(100 * r.ofPeak).toFixed(1)}%`,
    r.blas === undefined ? '-' : r.blas.toFixed(1), r.vsBlas === undefined ? '-' : r.vsBlas.toFixed(2),
    `| ${(100 * r.cpuOfPeak).toFixed(1)}%`, r.cpuVsBlas === undefined ? '-' : r.cpuVsBlas.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padStart(widths[i]!)).join('  ');
  console.log(line(header));
  for (const c of cells) console.log(line(c));
  console.log('(medians over repetitions; ratios are medians of per-repetition ratios; the CPU-time columns');
  console.log(' compare work per CPU-second, unaffected by other processes sharing the cores)');
}

await main();
