/**
 * Inference benchmark (`npm run bench -- predict`): ms per predictOnBatch call of the train
 * benchmark's five models (bench/train.ts), at batch 1 (one request) and at the train step's
 * batch, on the cpu backend (one compiled graph per input signature) and eagerly (`model.call`),
 * beside PyTorch CPU (eval mode, no_grad) and TensorFlow.js (predict, cpu and wasm) when
 * available, all measured in this run. Medians of timed calls after warm-up; printed, never
 * asserted. The models' weights are their initial ones: the work does not depend on them.
 */
import { fileURLToPath } from 'node:url';
import * as keras from '../lib/index.js';
import { median } from './common.js';
import { CASES, fmt, loadTfjs, tfjsModel, toTfjs, torch, type Case } from './train.js';

/** Timed calls for about `budgetMs` (at least 5), after 3 warm-up calls. */
async function timeCalls(call: () => unknown | Promise<unknown>, budgetMs = 1500): Promise<number> {
  for (let i = 0; i < 3; i++) await call();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 5 || (performance.now() - start < budgetMs && times.length < 500)) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function kerasNode(c: Case, batch: number, mode: 'compiled' | 'eager'): Promise<number | string> {
  try {
    keras.config.setBackend('cpu');
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
  try {
    const model = c.build();
    const x = c.x(batch);
    const call = mode === 'compiled'
      ? () => (model.predictOnBatch(x) as keras.Tensor).dataSync()
      : () => keras.tidy(() => (model.call(x) as keras.Tensor).dataSync());
    return await timeCalls(call);
  } catch (e) {
    return `failed (${(e as Error).message.split('\n')[0]})`;
  } finally {
    keras.config.setBackend('js');
  }
}

async function tfjs(c: Case, index: number, batch: number, backend: 'cpu' | 'wasm'): Promise<number | string> {
  const tf = await loadTfjs(backend);
  if (typeof tf === 'string') return tf;
  try {
    const model = tfjsModel(tf, index);
    if (typeof model === 'string') return model;
    const x = toTfjs(tf, c.x(batch));
    return await timeCalls(async () => {
      const y = model.predict(x);
      await y.data();
      y.dispose();
    }, 800);
  } catch (e) {
    return `failed (${(e as Error).message.split('\n')[0]})`;
  }
}

export async function runPredictBench(): Promise<void> {
  console.log('inference benchmark: median ms per predictOnBatch call (same run); compiled: the cpu backend\'s graph, eager: model.call op by op');
  for (const [i, c] of CASES.entries()) {
    const probe = c.x();
    const trainBatch = probe.shape[0] as number;
    probe.dispose();
    for (const batch of [1, trainBatch]) {
      console.log(`\n${c.name.replace(/, batch .*$/, '')}, batch ${batch}`);
      const results: Record<string, number | string> = {
        'keras-node cpu': await kerasNode(c, batch, 'compiled'),
        'keras-node eager': await kerasNode(c, batch, 'eager'),
        'PyTorch CPU': torch(i, 'predict', batch),
        'tfjs cpu': await tfjs(c, i, batch, 'cpu'),
        'tfjs wasm': await tfjs(c, i, batch, 'wasm'),
      };
      const base = typeof results['PyTorch CPU'] === 'number' ? results['PyTorch CPU'] : null;
      for (const [k, v] of Object.entries(results)) {
        const ratio = base && typeof v === 'number' ? `  (${(v / base).toFixed(2)}x PyTorch)` : '';
        console.log(`  ${k.padEnd(18)} ${fmt(v)}${ratio}`);
      }
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runPredictBench();
