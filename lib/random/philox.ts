/**
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel Random Numbers: As Easy as
 * 1, 2, 3", SC11; the Random123 library) over uint32 words held in JS numbers, and the
 * word-to-float conversions of keras-node's random stream. docs/random.md specifies
 * every step bit-exactly so the native engine reproduces the same stream.
 * This module imports nothing: backends use it as the reference generator.
 */

/** Round multipliers. */
export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
/** Key schedule increments (golden ratio and sqrt(3) - 1, as 32-bit fractions). */
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 values. */
export function mulhi32(a: number, b: number): number {
  // Split b in 16-bit halves so every partial product stays below 2^53 (exact in a double).
  const lo = a * (b & 0xffff);
  const hi = a * (b >>> 16);
  return Math.floor((hi + Math.floor(lo / 65536)) / 65536) >>> 0;
}

/**
 * One Philox4x32 block: `rounds` rounds over counter (c0..c3) with key (k0, k1).
 * Writes the four uint32 output words into `out[at..at+3]`.
 */
export function philox4x32Into(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  at = 0,
  rounds = 10,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      // The key is bumped between rounds, not before the first one.
      key0 = (key0 + PHILOX_W0) >>> 0;
      key1 = (key1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, x0);
    const lo0 = Math.imul(PHILOX_M0, x0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, x2);
    const lo1 = Math.imul(PHILOX_M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
  }
  out[at] = x0;
  out[at + 1] = x1;
  out[at + 2] = x2;
  out[at + 3] = x3;
}

/** Philox4x32 of one counter and key, as four uint32 words (10 rounds unless told). */
export function philox4x32(counter: readonly number[], key: readonly number[], rounds = 10): Uint32Array {
  const out = new Uint32Array(4);
  philox4x32Into(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out, 0, rounds);
  return out;
}

/**
 * The raw stream of key (k0, k1): word j is word j % 4 of the block with counter
 * (b mod 2^32, floor(b / 2^32), 0, 0), b = floor(j / 4). Fills `out` from word 0.
 */
export function philoxWords(k0: number, k1: number, out: Uint32Array): Uint32Array {
  const n = out.length;
  const full = n - (n % 4);
  const block = new Uint32Array(4);
  let b = 0;
  for (let j = 0; j < full; j += 4, b++) philox4x32Into(b >>> 0, Math.floor(b / 4294967296), 0, 0, k0, k1, out, j);
  if (full < n) {
    philox4x32Into(b >>> 0, Math.floor(b / 4294967296), 0, 0, k0, k1, block, 0);
    for (let j = full; j < n; j++) out[j] = block[j - full];
  }
  return out;
}

const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M53 = 1 / 9007199254740992;

/** float32 uniform of one word: the top 24 bits times 2^-24, in [0, 1 - 2^-24]. */
export function wordToFloat32(w: number): number {
  return (w >>> 8) * TWO_POW_M24;
}

/** float64 uniform of two words: top 27 bits of `a`, top 26 of `b`, times 2^-53, in [0, 1 - 2^-53]. */
export function wordsToFloat64(a: number, b: number): number {
  return ((a >>> 5) * 67108864 + (b >>> 6)) * TWO_POW_M53;
}

/**
 * Fills `out` with uniforms in [0, 1) from key (k0, k1): float32 element i uses stream
 * word i; float64 element i uses words 2i and 2i + 1.
 */
export function fillUniform(out: Float32Array | Float64Array, k0: number, k1: number): void {
  const n = out.length;
  if (out instanceof Float32Array) {
    const words = philoxWords(k0, k1, new Uint32Array(n));
    for (let i = 0; i < n; i++) out[i] = wordToFloat32(words[i]);
  } else {
    const words = philoxWords(k0, k1, new Uint32Array(2 * n));
    for (let i = 0; i < n; i++) out[i] = wordsToFloat64(words[2 * i], words[2 * i + 1]);
  }
}
