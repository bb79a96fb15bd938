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
 *
 * Then the other convolutions a model meets (1-D, 3-D, depthwise, strided, dilated, 1x1, deep),
 * each pass against PyTorch on all threads, so a shape the main case does not exercise
 * shows where it stands. BENCH_CONV_VARIANTS=0 skips them.
 */
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { loadNativeAddon, type NativeTensor } from '../lib/backends/cpu/native.js';
import { median, pythonEnv } from './common.js';

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
    const env = pythonEnv({ OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' });
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

/** A convolution beside the main case: NHWC-style shapes, symmetric padding, one stride and dilation for every dim. */
interface Variant {
  name: string;
  x: number[];
  k: number[]; // [...spatial, in channels per group, out channels]
  stride: number;
  dilation: number;
  pad: number;
  groups: number;
}

const VARIANTS: Variant[] = [
  { name: 'conv1d [32,1024,64] k5 64->64', x: [32, 1024, 64], k: [5, 64, 64], stride: 1, dilation: 1, pad: 2, groups: 1 },
  { name: 'conv3d [8,16,16,16,32] 3x3x3 32->32', x: [8, 16, 16, 16, 32], k: [3, 3, 3, 32, 32], stride: 1, dilation: 1, pad: 1, groups: 1 },
  { name: 'depthwise [32,56,56,64] 3x3', x: [32, 56, 56, 64], k: [3, 3, 1, 64], stride: 1, dilation: 1, pad: 1, groups: 64 },
  { name: 'strided [32,56,56,64] 3x3 s2 ->128', x: [32, 56, 56, 64], k: [3, 3, 64, 128], stride: 2, dilation: 1, pad: 1, groups: 1 },
  { name: 'dilated [32,32,32,64] 3x3 d2 ->64', x: [32, 32, 32, 64], k: [3, 3, 64, 64], stride: 1, dilation: 2, pad: 2, groups: 1 },
  { name: 'pointwise [32,28,28,128] 1x1 ->256', x: [32, 28, 28, 128], k: [1, 1, 128, 256], stride: 1, dilation: 1, pad: 0, groups: 1 },
  // Deep layers: few pixels, filters of 4.7 and 9.4 MB (past L2: their gradient, and the second's
  // forward, as one GEMM over gathered patches).
  { name: 'deep [32,7,7,256] 3x3 ->512', x: [32, 7, 7, 256], k: [3, 3, 256, 512], stride: 1, dilation: 1, pad: 1, groups: 1 },
  { name: 'deep [16,7,7,512] 3x3 ->512', x: [16, 7, 7, 512], k: [3, 3, 512, 512], stride: 1, dilation: 1, pad: 1, groups: 1 },
];

function variantGeometry(v: Variant): { spatial: number[]; out: number[]; attrs: Record<string, number[] | number>; flops: number } {
  const spatial = v.x.slice(1, -1);
  const taps = v.k.slice(0, -2);
  const out = spatial.map((n, i) => Math.floor((n + 2 * v.pad - v.dilation * (taps[i]! - 1) - 1) / v.stride) + 1);
  const attrs = { strides: spatial.map(() => v.stride), padding: spatial.flatMap(() => [v.pad, v.pad]), dilation: spatial.map(() => v.dilation), groups: v.groups };
  const outPixels = v.x[0]! * out.reduce((a, b) => a * b, 1);
  const flops = 2 * outPixels * taps.reduce((a, b) => a * b, 1) * v.k[v.k.length - 2]! * v.k[v.k.length - 1]!;
  return { spatial, out, attrs, flops };
}

// A PyTorch child timing (variant index, pass) per request line, answering seconds.
const TORCH_VARIANTS = `
import json, sys, time
import torch
import torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]))
variants = json.loads(sys.argv[2])
fmt = {3: torch.contiguous_format, 4: torch.channels_last, 5: torch.channels_last_3d}
cases = []
for v in variants:
    nd = len(v['x']) - 2
    x = torch.randn(v['x'][0], v['x'][-1], *v['x'][1:-1]).contiguous(memory_format=fmt[nd + 2])
    w = torch.randn(v['k'][-1], v['k'][-2], *v['k'][:-2]).contiguous(memory_format=fmt[nd + 2])
    conv = [F.conv1d, F.conv2d, F.conv3d][nd - 1]
    kw = dict(stride=v['stride'], padding=v['pad'], dilation=v['dilation'], groups=v['groups'])
    y = conv(x, w, **kw)
    dy = torch.randn_like(y)
    gi = [torch.nn.grad.conv1d_input, torch.nn.grad.conv2d_input, torch.nn.grad.conv3d_input][nd - 1]
    gw = [torch.nn.grad.conv1d_weight, torch.nn.grad.conv2d_weight, torch.nn.grad.conv3d_weight][nd - 1]
    cases.append({'forward': lambda x=x, w=w, conv=conv, kw=kw: conv(x, w, **kw),
                  'input': lambda x=x, w=w, dy=dy, gi=gi, kw=kw: gi(x.shape, w, dy, **kw),
                  'filter': lambda x=x, w=w, dy=dy, gw=gw, kw=kw: gw(x, w.shape, dy, **kw)})
with torch.no_grad():
    for c in cases:
        for p in c.values(): p()
    print('ready', flush=True)
    for line in sys.stdin:
        i, p = line.split()
        t = time.perf_counter(); cases[int(i)][p](); print(time.perf_counter() - t, flush=True)
`;

async function variants(): Promise<void> {
  const threads = native.backendInfo().threads;
  const env = pythonEnv({ OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' });
  const child = spawn('/usr/bin/python3', ['-c', TORCH_VARIANTS, String(threads), JSON.stringify(VARIANTS)], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  const failed = new Promise<undefined>((resolve) => {
    child.on('error', () => resolve(undefined));
    child.on('exit', () => resolve(undefined));
  });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ready = await Promise.race([lines.next(), failed]);
  const torch = ready && !ready.done;
  const torchTime = async (i: number, p: Pass) => {
    child.stdin!.write(`${i} ${p}\n`);
    return Number((await lines.next()).value);
  };
  console.log(`\nother convolutions, ${threads} threads (ms, medians of 5 interleaved repetitions${torch ? '; "vs PyTorch": its time / ours, > 1 is faster' : '; PyTorch not importable'}):`);
  const header = ['convolution', 'pass', 'ms', 'GFLOP/s', 'PyTorch ms', 'vs PyTorch'];
  const rows: string[][] = [];
  for (const [i, v] of VARIANTS.entries()) {
    const g = variantGeometry(v);
    const x = random(v.x), k = random(v.k), dy = random([v.x[0]!, ...g.out, v.k[v.k.length - 1]!]);
    const run = (p: Pass) => {
      const start = process.hrtime.bigint();
      const [out] = p === 'forward' ? native.runKernel('conv', [x, k], g.attrs)
        : p === 'input' ? native.runKernel('convBackpropInput', [dy, k], { ...g.attrs, inputSize: g.spatial })
        : native.runKernel('convBackpropFilter', [x, dy], { ...g.attrs, kernelSize: v.k.slice(0, -2) });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      out!.dispose();
      return seconds;
    };
    for (const p of PASSES) run(p);
    const ours: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    const theirs: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    const ratio: Record<Pass, number[]> = { forward: [], input: [], filter: [] };
    for (let r = 0; r < 5; r++) {
      for (const p of PASSES) {
        const t = run(p);
        ours[p].push(t);
        if (!torch) continue;
        const other = await torchTime(i, p);
        theirs[p].push(other);
        ratio[p].push(other / t);
      }
    }
    for (const p of PASSES) {
      rows.push([
        p === 'forward' ? v.name : '', p, (1e3 * median(ours[p])).toFixed(2), (g.flops / median(ours[p]) / 1e9).toFixed(1),
        torch ? (1e3 * median(theirs[p])).toFixed(2) : '-', torch ? `${median(ratio[p]).toFixed(2)}x` : '-',
      ]);
    }
    [x, k, dy].forEach((t) => t.dispose());
  }
  child.stdin!.end();
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

await main();
if (process.env.BENCH_CONV_VARIANTS !== '0') await variants();
