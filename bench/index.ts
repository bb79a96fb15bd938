/**
 * `npm run bench [-- <name>...]`, name one of train | predict | gemm | conv | elementwise | overhead |
 * executor | all (default all). Benchmarks print figures next to limits or baselines
 * measured in the same run; nothing here is asserted. See bench/README.md. `npm run bench` runs
 * the compiled JavaScript (dist/bench), as users run dist/lib: under tsx, every closure made per call
 * also goes through esbuild's keepNames helper, which made an eager matmul 0.8 us slower.
 */
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const NAMES = ['train', 'predict', 'gemm', 'conv', 'elementwise', 'overhead', 'executor'] as const;
type Name = (typeof NAMES)[number];

// This module's own extension: .js compiled (npm run bench), .ts under tsx.
const extension = path.extname(fileURLToPath(import.meta.url));

/** Imports bench/<file> when present; calls its exported run*Bench function, if any (gemm and conv run on import). */
async function runModule(file: string): Promise<void> {
  const url = new URL(`./${file}${extension}`, import.meta.url);
  if (!fs.existsSync(fileURLToPath(url))) {
    console.log(`bench/${file}${extension} is not there yet: skipped`);
    return;
  }
  try {
    const mod = (await import(url.href)) as Record<string, unknown>;
    const run = Object.entries(mod).find(([k, v]) => typeof v === 'function' && /^run\w*Bench$/.test(k))?.[1] ?? mod.default;
    if (typeof run === 'function') await (run as () => unknown)();
  } catch (error) {
    // One failing benchmark (e.g. no native build) should not hide the others' figures.
    failures.push(file);
    console.log(`bench/${file}${extension} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

const failures: string[] = [];

/** The machine and how loaded it is: figures from a busy machine read low, so say so up front. */
function describeMachine(): void {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = execSync("lscpu | grep 'Model name\\|CPU family'", { encoding: 'utf8' }).trim().split('\n').map((l) => l.replace(/\s+/g, ' ')).join('; ');
  } catch {
    // no lscpu: keep os.cpus()'s model name
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(', ');
  const cores = os.availableParallelism();
  console.log(`machine: ${cpu}; ${cores} logical CPUs; load average ${load} (1, 5, 15 min)`);
  if (os.loadavg()[0]! > 0.5 * cores) console.log('  note: the machine is busy (load > half the CPUs); compare figures only within this run');
  console.log(`node ${process.version}, KERAS_NUM_THREADS=${process.env.KERAS_NUM_THREADS ?? 'unset'}, ${new Date().toISOString()}`);
}

const args = process.argv.slice(2);
const wanted: Name[] = args.length === 0 || args.includes('all') ? [...NAMES] : (args as Name[]);
const unknown = wanted.filter((n) => !NAMES.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${NAMES.join(', ')} or all`);
  process.exit(2);
}

describeMachine();
for (const name of NAMES) {
  if (!wanted.includes(name)) continue;
  console.log(`\n=== ${name} ===`);
  await runModule(name);
}
if (failures.length) {
  console.log(`\nfailed: ${failures.join(', ')}`);
  process.exitCode = 1;
}
