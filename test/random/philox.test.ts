import { describe, expect, it } from 'vitest';
import { fillUniform, mulhi32, philox4x32, philoxWords, wordToFloat32, wordsToFloat64 } from '../../lib/random/philox.js';

const hex = (a: Uint32Array): string[] => Array.from(a, (x) => x.toString(16).padStart(8, '0'));
const words = (s: string): number[] => s.split(' ').map((w) => parseInt(w, 16));

// Random123 kat_vectors lines: counter (4 words), key (2 words), expected output (4 words).
const KAT: [number, string, string, string][] = [
  [10, '00000000 00000000 00000000 00000000', '00000000 00000000', '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
  [10, 'ffffffff ffffffff ffffffff ffffffff', 'ffffffff ffffffff', '408f276d 41c83b0e a20bc7c6 6d5451fd'],
  [10, '243f6a88 85a308d3 13198a2e 03707344', 'a4093822 299f31d0', 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  [7, '00000000 00000000 00000000 00000000', '00000000 00000000', '5f6fb709 0d893f64 4f121f81 4f730a48'],
  [7, 'ffffffff ffffffff ffffffff ffffffff', 'ffffffff ffffffff', '5207ddc2 45165e59 4d8ee751 8c52f662'],
  [7, '243f6a88 85a308d3 13198a2e 03707344', 'a4093822 299f31d0', '4dfccaba 190a87f0 c47362ba b6b5242a'],
];

describe('Philox4x32 known answers (Random123 kat_vectors)', () => {
  for (const [rounds, ctr, key, want] of KAT) {
    it(`philox4x32-${rounds} ctr ${ctr} key ${key}`, () => {
      expect(hex(philox4x32(words(ctr), words(key), rounds))).toEqual(want.split(' '));
    });
  }
});

describe('mulhi32', () => {
  it('is the exact high word of a 32x32 product', () => {
    expect(mulhi32(0xffffffff, 0xffffffff)).toBe(0xfffffffe);
    expect(mulhi32(0x80000000, 2)).toBe(1);
    expect(mulhi32(0xd2511f53, 0)).toBe(0);
    expect(mulhi32(0xd2511f53, 1)).toBe(0);
    for (const [a, b] of [[0xd2511f53, 0x12345678], [0xcd9e8d57, 0xfedcba98], [0x9e3779b9, 0xbb67ae85], [65535, 65537]]) {
      expect(mulhi32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
    }
  });
});

describe('stream layout', () => {
  it('word j is word j % 4 of the block with counter (floor(j / 4), 0, 0, 0)', () => {
    expect(hex(philoxWords(42, 0, new Uint32Array(8)))).toEqual(['9ceaf053', '77f5493b', '12bf50ad', '5742b3d7', 'fcdb2127', '53ba6cfd', '838f5a6e', '744e06fb']);
    expect(Array.from(philoxWords(42, 0, new Uint32Array(8)).slice(4))).toEqual(Array.from(philox4x32([1, 0, 0, 0], [42, 0])));
    // A length that is not a multiple of 4 is a prefix of the longer stream.
    expect(Array.from(philoxWords(7, 9, new Uint32Array(6)))).toEqual(Array.from(philoxWords(7, 9, new Uint32Array(12)).slice(0, 6)));
    expect(philoxWords(7, 9, new Uint32Array(0)).length).toBe(0);
  });

  it('converts words to floats by their top bits', () => {
    expect(wordToFloat32(0)).toBe(0);
    expect(wordToFloat32(0xffffffff)).toBe(1 - 2 ** -24);
    expect(wordToFloat32(0x000000ff)).toBe(0);
    expect(wordToFloat32(0x53ba6cfd)).toBe(5487212 / 2 ** 24);
    expect(wordsToFloat64(0, 0)).toBe(0);
    expect(wordsToFloat64(0xffffffff, 0xffffffff)).toBe(1 - 2 ** -53);
    expect(wordsToFloat64(0x9ceaf053, 0x77f5493b)).toBe((82270082 * 2 ** 26 + 31446308) / 2 ** 53);
  });

  it('fills float32 from single words and float64 from word pairs', () => {
    const f = new Float32Array(3);
    fillUniform(f, 42, 0);
    expect(Array.from(f)).toEqual([10283760 / 2 ** 24, 7861577 / 2 ** 24, 1228624 / 2 ** 24]);
    const d = new Float64Array(2);
    fillUniform(d, 42, 0);
    expect(d[0]).toBe(wordsToFloat64(0x9ceaf053, 0x77f5493b));
    expect(d[1]).toBe(wordsToFloat64(0x12bf50ad, 0x5742b3d7));
  });
});
