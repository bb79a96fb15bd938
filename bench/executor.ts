/**
 * Graph executor benchmark (`npm run bench -- executor`, or `npx tsx bench/executor.ts`):
 * ms per compiled train step of the MLP 784-512-512-10, batch 128, Adam, on the cpu
 * backend, interpreted node by node vs the native graph executor (one native call per
 * step), with trainOnBatch (runSync) and with the executable's async run(). Also the
 * executor's measured peak intermediate bytes and in-place writes. Medians of timed
 * steps after warm-up, both measured in this run; printed, never asserted.
 */
import { fileURLToPath } from 'node:url';
import * as keras from '../lib/index.js';
import { getBackend } from '../lib/engine.js';
import type { CpuBackend } from '../lib/backends/cpu/index.js';
import type { Executable } from '../lib/backends/backend.js';
import { NativeGraphExecutable } from '../lib/backends/cpu/executor.js';
import { compileForBench, median, mlp, randomFloats } from './common.js';

const { ops, layers } = keras;
const BATCH = 128;
const STEPS = 15;

interface Timing {
  syncMs: number;
  asyncMs: number;
  exe: Executable;
}

/** Builds the model, runs trainOnBatch (which compiles the step) and times it; then times exe.run() on the same executable. */
async function time(mode: 'interpreted' | 'auto'): Promise<Timing> {
  if (mode === 'interpreted') process.env.KERAS_CPU_EXECUTOR = 'interpreted';
  else delete process.env.KERAS_CPU_EXECUTOR;
  const cpu = getBackend('cpu') as CpuBackend;
  const compile = cpu.compile.bind(cpu);
  let exe: Executable | null = null;
  cpu.compile = (g, o) => (exe = compile(g, o));
  try {
    keras.utils.setRandomSeed(1);
    const model = mlp();
    compileForBench(model);
    const x = ops.reshape(ops.convertToTensor(randomFloats(BATCH * 784, 1)), [BATCH, 784]);
    const y = ops.convertToTensor(Int32Array.from({ length: BATCH }, (_, i) => (i * 7) % 10));
    for (let i = 0; i < 3; i++) model.trainOnBatch(x, y);
    const sync: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const t0 = performance.now();
      model.trainOnBatch(x, y);
      sync.push(performance.now() - t0);
    }
    if (!exe) throw new Error('trainOnBatch did not compile a graph');
    const executable: Executable = exe;
    // The same compiled step through run(): the trainer's batch is [x, y].
    const async: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const t0 = performance.now();
      const outs = await executable.run([x, y]);
      async.push(performance.now() - t0);
      outs.forEach((o) => o.dispose());
    }
    return { syncMs: median(sync), asyncMs: median(async), exe: executable };
  } finally {
    cpu.compile = compile;
    delete process.env.KERAS_CPU_EXECUTOR;
  }
}

/** Prints the comparison. */
export async function runExecutorBench(): Promise<void> {
  try {
    keras.config.setBackend('cpu');
  } catch (e) {
    console.log(`executor bench: cpu backend unavailable (${(e as Error).message.split('\n')[0]})`);
    return;
  }
  try {
    const info = keras.config.backendInfo() as { isa?: string; threads?: number };
    console.log(`\nGraph executor: MLP 784-512-512-10, batch ${BATCH}, Adam, compiled train step on cpu (${info.isa}, ${info.threads} threads); median of ${STEPS} steps`);
    const interpreted = await time('interpreted');
    const native = await time('auto');
    const fmt = (ms: number) => `${ms.toFixed(2)} ms/step`;
    console.log(`  interpreted      runSync ${fmt(interpreted.syncMs)}   run() ${fmt(interpreted.asyncMs)}`);
    console.log(`  native executor  runSync ${fmt(native.syncMs)}   run() ${fmt(native.asyncMs)}`);
    console.log(`  speedup          runSync ${(interpreted.syncMs / native.syncMs).toFixed(2)}x   run() ${(interpreted.asyncMs / native.asyncMs).toFixed(2)}x`);
    if (native.exe instanceof NativeGraphExecutable) {
      const plan = native.exe.plan()!;
      const stats = native.exe.lastRunStats()!;
      const fused = plan.groups.filter((g) => g.kind === 'fused');
      console.log(
        `  native plan: ${plan.groups.length} groups, ${fused.length} fused chains of ${fused.reduce((a, g) => a + g.ops.length, 0)} ops, ` +
          `${plan.groups.filter((g) => g.concurrentWithNext).length} pairs of light groups run at once; ` +
          `per step ${stats.kernels} kernel calls, ${stats.inPlace} in-place writes, peak ${(stats.peakBytes / 2 ** 20).toFixed(2)} MiB of ` +
          `${(stats.allocatedBytes / 2 ** 20).toFixed(2)} MiB allocated`,
      );
    } else {
      console.log('  (the cpu backend did not choose the native executor for this graph)');
    }
    interpreted.exe.dispose();
    native.exe.dispose();
  } finally {
    keras.config.setBackend('js');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runExecutorBench();
