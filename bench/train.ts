/**
 * Train-step benchmark (`npm run bench -- train`): ms per step of five models on each
 * keras-node backend, beside TensorFlow.js (cpu, wasm) and PyTorch CPU when available,
 * all measured in this run. Medians of timed steps after warm-up; printed, never asserted.
 */
import { spawnSync } from 'node:child_process';
import * as keras from '../lib/index.js';
import { compileForBench, labels, median, mlp, pythonEnv, randomFloats } from './common.js';

const { ops, layers } = keras;

export interface Case {
  name: string;
  build: () => keras.Model;
  /** Inputs of `batch` rows (default: the train step's batch); a smaller batch is the first rows of a larger one. */
  x: (batch?: number) => keras.Tensor;
  y: () => keras.Tensor;
  steps: number;
}

/** Reproducible inputs of shape [batch, ...row]. */
function inputs(batch: number, row: number[], seed: number): keras.Tensor {
  return ops.reshape(ops.convertToTensor(randomFloats(batch * row.reduce((a, b) => a * b, 1), seed)), [batch, ...row]);
}

export const CASES: Case[] = [
  {
    name: 'MLP 784-512-512-10, batch 128, Adam',
    build: mlp,
    x: (batch = 128) => inputs(batch, [784], 1),
    y: () => labels(128, 10),
    steps: 10,
  },
  {
    name: 'CNN Conv32-Pool-Conv64-Pool-Dense128-Dense10, 28x28x1, batch 64, Adam',
    build: () =>
      new keras.Sequential([
        keras.Input({ shape: [28, 28, 1] }),
        new layers.Conv2D(32, 3, { activation: 'relu' }),
        new layers.MaxPooling2D(2),
        new layers.Conv2D(64, 3, { activation: 'relu' }),
        new layers.MaxPooling2D(2),
        new layers.Flatten(),
        new layers.Dense(128, { activation: 'relu' }),
        new layers.Dense(10),
      ]),
    x: (batch = 64) => inputs(batch, [28, 28, 1], 2),
    y: () => labels(64, 10),
    steps: 5,
  },
  {
    name: 'LSTM(128) over 50 steps of 64 features, batch 32, Dense(10), Adam',
    build: () => {
      const lstm = (layers as Record<string, unknown>).LSTM as (new (units: number) => keras.layers.Layer) | undefined;
      if (!lstm) throw new Error('LSTM layer not available');
      return new keras.Sequential([keras.Input({ shape: [50, 64] }), new lstm(128), new layers.Dense(10)]);
    },
    x: (batch = 32) => inputs(batch, [50, 64], 3),
    y: () => labels(32, 10),
    steps: 3,
  },
  {
    name: 'GRU(128) over 50 steps of 64 features, batch 32, Dense(10), Adam',
    build: () => new keras.Sequential([keras.Input({ shape: [50, 64] }), new layers.GRU(128), new layers.Dense(10)]),
    x: (batch = 32) => inputs(batch, [50, 64], 4),
    y: () => labels(32, 10),
    steps: 3,
  },
  {
    name: 'Transformer encoder block (64 tokens of 32 features -> width 128, 4 heads, FFN 512 GELU), batch 32, Adam',
    build: () => new TransformerBlock(),
    x: (batch = 32) => inputs(batch, [64, 32], 5),
    y: () => labels(32, 10),
    steps: 5,
  },
];

/** Embedding Dense, self-attention and a GELU feed-forward with residuals and LayerNorm, mean-pooled into Dense(10). */
class TransformerBlock extends keras.Model {
  embed = new layers.Dense(128);
  attention = new layers.MultiHeadAttention(4, 32);
  norm1 = new layers.LayerNormalization();
  ffn1 = new layers.Dense(512, { activation: 'gelu' });
  ffn2 = new layers.Dense(128);
  norm2 = new layers.LayerNormalization();
  head = new layers.Dense(10);

  override call(inputs: keras.Tensor | keras.Tensor[], options: keras.layers.CallOptions = {}): keras.Tensor {
    const x = this.embed.apply(inputs as keras.Tensor) as keras.Tensor;
    const attended = this.attention.apply([x, x], { training: options.training }) as keras.Tensor;
    const h = this.norm1.apply(ops.add(x, attended)) as keras.Tensor;
    const f = this.ffn2.apply(this.ffn1.apply(h)) as keras.Tensor;
    return this.head.apply(ops.mean(this.norm2.apply(ops.add(h, f)) as keras.Tensor, 1)) as keras.Tensor;
  }
}

/** Median ms of `steps` calls of `step`, after `warmup` untimed ones (compilation, warm caches). */
function timeSteps(step: () => unknown, steps: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function kerasNode(c: Case, backend: string): Promise<number | string> {
  try {
    keras.config.setBackend(backend);
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
  try {
    const model = c.build();
    compileForBench(model);
    const x = c.x();
    const y = c.y();
    return timeSteps(() => model.trainOnBatch(x, y), c.steps);
  } catch (e) {
    return `failed (${(e as Error).message.split('\n')[0]})`;
  } finally {
    keras.config.setBackend('js');
  }
}

/**
 * The same step as a custom training loop on `cpu`: the model called eagerly under a
 * GradientTape, its gradients applied by the optimizer, op by op (no compiled graph), as
 * PyTorch's own step runs.
 */
async function kerasNodeEager(c: Case): Promise<number | string> {
  keras.config.setBackend('cpu');
  try {
    const model = c.build();
    const optimizer = new keras.optimizers.Adam(1e-3);
    const loss = new keras.losses.SparseCategoricalCrossentropy({ fromLogits: true });
    const x = c.x();
    const y = c.y();
    const step = () =>
      keras.tidy(() => {
        const tape = new keras.GradientTape();
        const value = tape.record(() => loss.call(y, model.call(x, { training: true }) as keras.Tensor));
        const weights = model.trainableWeights;
        const grads = tape.gradient(value, weights);
        optimizer.applyGradients(grads.map((g, i) => [g, weights[i]!] as [keras.Tensor, keras.Variable]));
        return value.dataSync()[0];
      });
    // An eager step reaches its pace after some 30-50 steps (V8 optimizing the tape's and the
    // layers' code, its young generation growing: an LSTM step 32 ms in the first ten, 11 after
    // fifty), which a training run is at for all but its first second.
    return timeSteps(step, Math.max(c.steps, 10), 50);
  } catch (e) {
    return `failed (${(e as Error).message.split('\n')[0]})`;
  } finally {
    keras.config.setBackend('js');
  }
}

/** TensorFlow.js with `backend` ready, or why not (an optional devDependency). */
export async function loadTfjs(backend: 'cpu' | 'wasm'): Promise<any> {
  try {
    const tf = await import('@tensorflow/tfjs' as string);
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm' as string);
    await tf.setBackend(backend);
    await tf.ready();
    return tf;
  } catch {
    return 'not installed';
  }
}

/** CASES[index] in tfjs layers, ending in logits; a string where tfjs has no equivalent. */
export function tfjsModel(tf: any, index: number): any {
  if (index === 4) return 'no MultiHeadAttention layer';
  const model = tf.sequential();
  if (index === 0) {
    model.add(tf.layers.dense({ units: 512, activation: 'relu', inputShape: [784] }));
    model.add(tf.layers.dense({ units: 512, activation: 'relu' }));
    model.add(tf.layers.dense({ units: 10 }));
  } else if (index === 1) {
    model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 128, activation: 'relu' }));
    model.add(tf.layers.dense({ units: 10 }));
  } else if (index === 2) {
    model.add(tf.layers.lstm({ units: 128, inputShape: [50, 64] }));
    model.add(tf.layers.dense({ units: 10 }));
  } else {
    // resetAfter false: tfjs's GRU rejects true (Keras 3's default, what keras-node runs); the
    // same work, the reset gate applied before the candidate's recurrent product instead of after.
    model.add(tf.layers.gru({ units: 128, inputShape: [50, 64] }));
    model.add(tf.layers.dense({ units: 10 }));
  }
  return model;
}

/** The same values as a tfjs tensor. */
export function toTfjs(tf: any, t: keras.Tensor): any {
  return tf.tensor(Array.from(t.dataSync()), t.shape);
}

async function tfjs(c: Case, index: number, backend: 'cpu' | 'wasm'): Promise<number | string> {
  const tf = await loadTfjs(backend);
  if (typeof tf === 'string') return tf;
  try {
    const model = tfjsModel(tf, index);
    if (typeof model === 'string') return model;
    // tfjs has no fromLogits: softmax output with one-hot categorical crossentropy does the same work.
    model.add(tf.layers.activation({ activation: 'softmax' }));
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const x = toTfjs(tf, c.x());
    const y = tf.oneHot(tf.tensor1d(Array.from(c.y().dataSync()), 'int32'), 10);
    await model.trainOnBatch(x, y);
    const times: number[] = [];
    for (let i = 0; i < Math.max(2, Math.ceil(c.steps / 3)); i++) {
      const t0 = performance.now();
      await model.trainOnBatch(x, y);
      times.push(performance.now() - t0);
    }
    return median(times);
  } catch (e) {
    return `failed (${(e as Error).message.split('\n')[0]})`;
  }
}

// CASES[i] in PyTorch. argv: i, then "train" (ms per Adam step at the case's batch) or "predict"
// and a batch size (ms per forward under no_grad, eval mode).
const TORCH = `
import sys, time, torch, torch.nn as nn
torch.set_num_threads(${Number(process.env.KERAS_NUM_THREADS ?? 2)})
i, mode = int(sys.argv[1]), sys.argv[2]
b = int(sys.argv[3]) if mode == 'predict' else [128, 64, 32, 32, 32][i]
if i == 0:
    m = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)); x = torch.randn(b, 784)
elif i == 1:
    m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10)); x = torch.randn(b, 1, 28, 28)
elif i < 4:
    class M(nn.Module):
        def __init__(s): super().__init__(); s.l = (nn.LSTM if i == 2 else nn.GRU)(64, 128, batch_first=True); s.d = nn.Linear(128, 10)
        def forward(s, x): return s.d(s.l(x)[0][:, -1])
    m = M(); x = torch.randn(b, 50, 64)
else:
    class M(nn.Module):
        def __init__(s):
            super().__init__(); s.e = nn.Linear(32, 128); s.a = nn.MultiheadAttention(128, 4, batch_first=True); s.n1 = nn.LayerNorm(128)
            s.f = nn.Sequential(nn.Linear(128, 512), nn.GELU(), nn.Linear(512, 128)); s.n2 = nn.LayerNorm(128); s.d = nn.Linear(128, 10)
        def forward(s, x):
            x = s.e(x); h = s.n1(x + s.a(x, x, x, need_weights=False)[0]); return s.d(s.n2(h + s.f(h)).mean(1))
    m = M(); x = torch.randn(b, 64, 32)
y = torch.randint(0, 10, (b,))
if mode == 'train':
    opt = torch.optim.Adam(m.parameters(), 1e-3); lf = nn.CrossEntropyLoss()
    def step():
        opt.zero_grad(); l = lf(m(x), y); l.backward(); opt.step()
    warm, n = 3, 20
else:
    m.eval(); torch.set_grad_enabled(False)
    def step(): m(x)
    warm, n = 10, 100
for _ in range(warm): step()
ts = []
for _ in range(n):
    t = time.perf_counter(); step(); ts.append((time.perf_counter() - t) * 1e3)
ts.sort(); print(ts[len(ts) // 2])
`;

/** PyTorch CPU's ms for CASES[index] (see TORCH), or why there is none. */
export function torch(index: number, mode: 'train' | 'predict' = 'train', batch = 0): number | string {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', TORCH, String(index), mode, String(batch)], { env: pythonEnv(), encoding: 'utf8', timeout: 300_000 });
    if (r.status === 0) return Number(r.stdout.trim());
  }
  return 'not installed';
}

export function fmt(v: number | string): string {
  return typeof v === 'number' ? `${v.toFixed(2)} ms` : v;
}

export async function runTrainBench(): Promise<void> {
  const backends = (process.env.BENCH_BACKENDS ?? 'cpu,js').split(',');
  console.log(`train-step benchmark: median ms per step (same run), backends ${backends.join(', ')}`);
  for (const [i, c] of CASES.entries()) {
    console.log(`\n${c.name}`);
    const results: Record<string, number | string> = {};
    for (const b of backends) results[`keras-node ${b}`] = await kerasNode(c, b);
    if (backends.includes('cpu')) results['keras-node cpu eager'] = await kerasNodeEager(c);
    results['PyTorch CPU'] = torch(i);
    results['tfjs cpu'] = await tfjs(c, i, 'cpu');
    results['tfjs wasm'] = await tfjs(c, i, 'wasm');
    const base = typeof results['PyTorch CPU'] === 'number' ? (results['PyTorch CPU'] as number) : null;
    for (const [k, v] of Object.entries(results)) {
      const ratio = base && typeof v === 'number' ? `  (${(v / base).toFixed(2)}x PyTorch)` : '';
      console.log(`  ${k.padEnd(21)} ${fmt(v)}${ratio}`);
    }
  }
}
