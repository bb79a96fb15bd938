/**
 * Convolution speed of the native CPU backend: conv2d NHWC, batch 32, 32x32,
 * 64 -> 64 channels, 3x3 'same', forward, input gradient and filter gradient,
 * against the machine's FP32 FMA peak measured in the same run (as bench/gemm.ts)
 * and, when `python3 -c 'import torch'` works, PyTorch's conv2d (channels_last)
 * with the same thread count.
 *
 *   npx tsx bench/conv.ts            (KERAS_CPU_ISA=avx2 to bench another path)
 *
 * Targets, reported and never asserted: forward >= 70% of peak; each gradient
 * within 1.5x of the forward time (also given by CPU time, which a busy shared
 * machine does not distort). Measurements are interleaved per repetition
 * (peak, forward, input grad, filter grad, PyTorch) and reported as medians,
 * ratios as medians of per-repetition ratios.
 */
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { loadNativeAddon, type NativeTensor } from '../lib/backends/cpu/native.js';
import { median } from './common.js';

const native = loadNativeAddon();
const [N, H, W, C, K, F] = [32, 32, 32, 64, 3, 64];
const flops = 2 * N * H * W * K * K * C * F;
const repetitions = 9;
const threadCounts = [...new Set([1, native.backendInfo().threads])];

function random(shape: number[]): NativeTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
  return native.createTensor(data, shape, 'float32');
}

const attrs = { strides: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 };
type Pass = 'forward' | 'input' | 'filter';
const PASSES: Pass[] = ['forward', 'input', 'filter'];

/** Wall-clock seconds and CPU seconds (all threads of this process) of one pass. */
function time(pass: Pass, x: NativeTensor, k: NativeTensor, dy: NativeTensor): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const [out] = pass === 'forward' ? native.runKernel('conv', [x, k], attrs)
    : pass === 'input' ? native.runKernel('convBackpropInput', [dy, k], { ...attrs, inputSize: [H, W] })
    : native.runKernel('convBackpropFilter', [x, dy], { ...attrs, kernelSize: [K, K] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu0);
  out!.dispose();
  return { wall: seconds, cpu: (used.user + used.system) / 1e6 };
}

// A PyTorch child timing one pass per request line ("forward" | "input" | "filter"), answering seconds.
const TORCH_SERVER = `
import json, sys, time
import torch
torch.set_num_threads(int(sys.argv[1]))
N, H, W, C, K, F = ${N}, ${H}, ${W}, ${C}, ${K}, ${F}
x = torch.randn(N, C, H, W).to(memory_format=torch.channels_last)
w = torch.randn(F, C, K, K).to(memory_format=torch.channels_last)
dy = torch.randn(N, F, H, W).to(memory_format=torch.channels_last)
def run(p):
    if p == 'forward': torch.nn.functional.conv2d(x, w, padding=1)
    elif p == 'input': torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1)
    else: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1)
with torch.no_grad():
    for p in ('forward', 'input', 'filter'): run(p)
    print(json.dumps({'torch': torch.__version__, 'mkldnn': torch.backends.mkldnn.is_available()}), flush=True)
    for line in sys.stdin:
        p = line.strip(); t = time.perf_counter(); run(p); print(time.perf_counter() - t, flush=True)
`;

class TorchTimer {
  private constructor(private readonly child: ReturnType<typeof spawn>, private readonly lines: AsyncIterator<string>, readonly about: string) {}

  static async start(threads: number): Promise<TorchTimer | undefined> {
    // PASSIVE: OpenMP threads otherwise spin for a while after each of PyTorch's passes, on the cores our
    // next pass (interleaved with PyTorch's) is timed on: the passes after PyTorch's read ~1.5x slow.
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
    const child = spawn('/usr/bin/python3', ['-c', TORCH_SERVER, String(threads)], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const failed = new Promise<undefined>((resolve) => {
      child.on('error', () => resolve(undefined));
      child.on('exit', () => resolve(undefined));
    });
    const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await Promise.race([lines.next(), failed]);
    if (!first || first.done) return undefined;
    const info = JSON.parse(first.value) as { torch: string; mkldnn: boolean };
    return new TorchTimer(child, lines, `PyTorch ${info.torch} (mkldnn ${info.mkldnn ? 'on' : 'off'})`);
  }

  async time(pass: Pass): Promise<number> {
    this.child.stdin!.write(`${pass}\n`);
    return Number((await this.lines.next()).value);
  }

  close(): void {
    this.child.stdin!.end();
  }
}

async function main(): Promise<void> {
  const info = native.backendInfo();
  console.log(`cpu: ${info.cpu.brand} (${info.cpu.physicalCores} cores), isa ${info.isa}, ${info.compiler}`);
  console.log(`conv2d NHWC float32: x [${N}, ${H}, ${W}, ${C}], kernel [${K}, ${K}, ${C}, ${F}], 'same', ${(flops / 1e9).toFixed(2)} GFLOP per pass`);
  const x = random([N, H, W, C]), k = random([K, K, C, F]), dy = random([N, H, W, F]);
  const header = ['threads', 'pass', 'GFLOP/s', 'of peak', 'vs forward', 'PyTorch GFLOP/s', 'vs PyTorch', '| CPU time: vs forward'];
  const rows: string[][] = [];
  for (const threads of threadCounts) {
    native.setNumThreads(threads);
    const torch = await TorchTimer.start(threads);
    if (threads === threadCounts[0]) console.log(torch ? torch.about : 'PyTorch: not importable, no comparison');
    for (const p of PASSES) time(p, x, k, dy); // warm scratch buffers and caches
    const peaks: number[] = [];
    const secs: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    const ofPeak: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    const vsForward: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    const cpuVsForward: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    const torchSecs: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    const vsTorch: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    for (let r = 0; r < repetitions; r++) {
      const peak = native.peakFlops(threads, 0.1) * 1e9;
      peaks.push(peak);
      const t: Record<Pass, number> = { forward: 0, input: 0, filter: 0 };
      const cpu: Record<Pass, number> = { forward: 0, input: 0, filter: 0 };
      for (const p of PASSES) {
        ({ wall: t[p], cpu: cpu[p] } = time(p, x, k, dy));
        secs[p].push(t[p]);
        ofPeak[p].push(flops / t[p] / peak);
        if (torch) {
          const other = await torch.time(p);
          torchSecs[p].push(other);
          vsTorch[p].push(other / t[p]);
        }
      }
      for (const p of PASSES) {
        vsForward[p].push(t[p] / t.forward);
        cpuVsForward[p].push(cpu[p] / cpu.forward);
      }
    }
    torch?.close();
    console.log(`threads ${threads}: FP32 peak ${(median(peaks) / 1e9).toFixed(1)} GFLOP/s`);
    for (const p of PASSES) {
      rows.push([
        String(threads), p, (flops / median(secs[p]) / 1e9).toFixed(1), `${(100 * median(ofPeak[p])).toFixed(1)}%`,
        p === 'forward' ? '1.00x' : `${median(vsForward[p]).toFixed(2)}x`,
        torch ? (flops / median(torchSecs[p]) / 1e9).toFixed(1) : '-', torch ? `${median(vsTorch[p]).toFixed(2)}x` : '-',
        p === 'forward' ? '1.00x' : `${median(cpuVsForward[p]).toFixed(2)}x`,
      ]);
    }
  }
  native.setNumThreads(0);
  [x, k, dy].forEach((t) => t.dispose());
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padStart(widths[i]!)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log('("vs forward": time / forward time, target <= 1.5x; "vs PyTorch": PyTorch time / ours, > 1 is faster; medians of per-repetition ratios;');
  console.log(' the CPU-time column compares CPU-seconds of the process, which other processes sharing the cores do not inflate)');
}

await main();
