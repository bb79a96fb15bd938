/**
 * Native CPU convolutions (conv, convBackpropInput, convBackpropFilter) against
 * the js backend's kernels, the reference, on every instruction-set path this
 * machine has: 1D/2D/3D, strides, dilation, asymmetric and negative padding,
 * groups 1/2/Cin (depthwise), size-1 and size-0 dims, float32 and float64.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeDType, NativeTensor } from '../../lib/backends/cpu/native.js';
import { nnKernels } from '../../lib/backends/js/nn.js';
import { JsStorage } from '../../lib/backends/js/storage.js';
import '../../lib/ops/nn.js';
import { getOp } from '../../lib/ops/registry.js';
import type { Tensor } from '../../lib/tensor.js';
import { draws } from '../helpers.js';
import { addon, randomArray } from './helpers.js';

const native = addon();
const isas = native.backendInfo().availableIsas;
const defaultIsa = native.backendInfo().isa;
afterAll(() => native.setIsa(defaultIsa));

type Pair = [number, number];
type Dtype = 'float32' | 'float64';
const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

interface Operand {
  shape: number[];
  values: Float64Array;
}

/** The js kernel of `op` on float64 copies of the operands (it accumulates in float64 anyway). */
function jsRun(op: string, inputs: Operand[], attrs: Record<string, unknown>): Operand {
  const specs = inputs.map((t) => ({ shape: t.shape, dtype: 'float64' as const }));
  const [out] = getOp(op).infer(specs, attrs);
  const fake = inputs.map((t) => ({ shape: t.shape, dtype: 'float64', storage: new JsStorage(t.values) }) as unknown as Tensor);
  const [storage] = nnKernels[op]!(fake, attrs, [{ shape: out!.shape as number[], dtype: 'float64' }]) as JsStorage[];
  return { shape: out!.shape as number[], values: storage!.data as Float64Array };
}

function upload(t: Operand, dtype: Dtype): NativeTensor {
  return native.createTensor(dtype === 'float32' ? new Float32Array(t.values) : new Float64Array(t.values), t.shape, dtype);
}

/** The operand as the native kernel sees it (rounded to float32 where it runs in float32). */
function rounded(t: Operand, dtype: Dtype): Operand {
  return { shape: t.shape, values: dtype === 'float32' ? Float64Array.from(new Float32Array(t.values)) : t.values };
}

const flat = (padding: Pair[]) => padding.flat();

/**
 * Runs `op` natively and through the js kernel and compares elementwise within
 * a bound of eps * (terms + 4) * the sum of |terms| (the js kernel on |inputs|).
 */
function compare(op: string, inputs: Operand[], attrs: Record<string, unknown>, dtype: Dtype, label: string): void {
  const exact = inputs.map((t) => rounded(t, dtype));
  const want = jsRun(op, exact, attrs);
  const magnitude = jsRun(op, exact.map((t) => ({ shape: t.shape, values: t.values.map(Math.abs) })), attrs);
  const handles = inputs.map((t) => upload(t, dtype));
  const nativeAttrs = { ...attrs, padding: flat(attrs.padding as Pair[]) };
  const [out] = native.runKernel(op, handles, nativeAttrs);
  try {
    expect(out!.shape, label).toEqual(want.shape);
    expect(out!.dtype).toBe(dtype);
    const got = out!.read();
    const eps = dtype === 'float32' ? 1.2e-7 : 2.3e-16;
    const terms = Math.max(...inputs.map((t) => size(t.shape)));
    for (let i = 0; i < got.length; i++) {
      const tol = 8 * eps * Math.sqrt(terms + 4) * magnitude.values[i]! + 1e-300;
      if (!(Math.abs(got[i]! - want.values[i]!) <= tol)) {
        throw new Error(`${label}: element ${i} expected ${want.values[i]} got ${got[i]} (tol ${tol.toExponential(2)})`);
      }
    }
  } finally {
    handles.forEach((h) => h.dispose());
    out!.dispose();
  }
}

interface Case {
  x: number[];
  k: number[];
  strides?: number[];
  padding?: Pair[];
  dilation?: number[];
  groups?: number;
}

const cases: Case[] = [
  // 2D, the common shapes
  { x: [2, 7, 9, 8], k: [3, 3, 8, 16], padding: [[1, 1], [1, 1]] },
  { x: [1, 6, 6, 3], k: [3, 3, 3, 5] },
  { x: [2, 9, 8, 4], k: [3, 3, 4, 6], strides: [2, 2], padding: [[1, 1], [1, 1]] },
  { x: [1, 11, 10, 3], k: [3, 2, 3, 4], dilation: [2, 3], padding: [[2, 2], [3, 1]] },
  { x: [2, 7, 7, 5], k: [2, 3, 5, 7], strides: [2, 1], padding: [[0, 1], [2, 0]] }, // asymmetric
  { x: [1, 8, 8, 4], k: [3, 3, 4, 4], padding: [[-1, 0], [0, -2]] }, // negative padding crops
  { x: [3, 5, 5, 40], k: [1, 1, 40, 37] }, // 1x1: a plain GEMM, edge tiles in rows and columns
  { x: [1, 4, 6, 64], k: [3, 3, 64, 33], padding: [[1, 1], [1, 1]] },
  { x: [2, 6, 6, 20], k: [3, 3, 20, 40], padding: [[1, 1], [1, 1]] }, // channel blocks that overhang their tiles
  { x: [2, 8, 8, 3], k: [3, 3, 3, 32], padding: [[1, 1], [1, 1]] }, // a first layer: 3 channels per tap
  // groups
  { x: [2, 6, 7, 8], k: [3, 3, 4, 6], groups: 2, padding: [[1, 1], [1, 1]] },
  { x: [1, 7, 7, 6], k: [3, 3, 2, 9], groups: 3, strides: [2, 2] },
  { x: [2, 9, 8, 20], k: [3, 3, 1, 20], groups: 20, padding: [[1, 1], [1, 1]] }, // depthwise
  { x: [1, 8, 9, 19], k: [5, 3, 1, 19], groups: 19, strides: [2, 2], dilation: [1, 2], padding: [[2, 1], [0, 2]] },
  // depthwise forward along rows: 48 channels (whole vectors on every path), window rows 7 wide, rows of 21 pixels
  // (tiles of 16, 8, 4, 2 and 1), the edge rows with fewer window rows
  { x: [2, 6, 21, 48], k: [3, 7, 1, 48], groups: 48, padding: [[1, 1], [3, 3]] },
  // depthwise 3x3 with whole blocks of channels: 17 interior pixels a row; and with no padding, where the filter
  // gradient's runs of interior pixels cross rows
  { x: [2, 7, 19, 32], k: [3, 3, 1, 32], groups: 32, padding: [[1, 1], [1, 1]] },
  { x: [1, 6, 9, 16], k: [3, 3, 1, 16], groups: 16 },
  // depthwise, filter gradient: a block of two vectors of channels and a partial one, 25 taps in two register groups
  { x: [2, 10, 9, 40], k: [5, 5, 1, 40], groups: 40, padding: [[2, 2], [2, 2]] },
  { x: [2, 5, 5, 4], k: [3, 3, 1, 8], groups: 4, padding: [[1, 1], [1, 1]] }, // depth multiplier 2
  { x: [1, 5, 5, 32], k: [3, 3, 16, 64], groups: 2, padding: [[1, 1], [1, 1]] }, // groups with whole register tiles
  // 1D and 3D
  { x: [3, 17, 5], k: [4, 5, 7], strides: [3], padding: [[2, 1]] },
  { x: [2, 12, 6], k: [3, 1, 6], dilation: [4], groups: 6 },
  { x: [2, 4, 5, 6, 3], k: [2, 3, 3, 3, 4], padding: [[1, 0], [1, 1], [0, 2]], strides: [1, 2, 1] },
  { x: [1, 5, 4, 4, 6], k: [3, 2, 2, 3, 4], groups: 2, dilation: [2, 1, 1] },
  { x: [1, 6, 6, 5, 2], k: [5, 5, 3, 2, 3], padding: [[2, 2], [1, 1], [1, 1]] }, // 75 taps
  // size-1 dims: batch 1, one pixel, one channel, kernel as big as the input
  { x: [1, 1, 1, 1], k: [1, 1, 1, 1] },
  { x: [1, 5, 5, 1], k: [5, 5, 1, 1] },
  { x: [4, 1, 9, 2], k: [1, 3, 2, 3], padding: [[0, 0], [1, 1]] },
];

const caseLabel = (c: Case) => JSON.stringify(c);

function attrsOf(c: Case): { strides: number[]; padding: Pair[]; dilation: number[]; groups: number } {
  const nsp = c.x.length - 2;
  return {
    strides: c.strides ?? new Array<number>(nsp).fill(1),
    padding: c.padding ?? new Array<Pair>(nsp).fill([0, 0]),
    dilation: c.dilation ?? new Array<number>(nsp).fill(1),
    groups: c.groups ?? 1,
  };
}

function checkCase(c: Case, dtype: Dtype, seed: number): void {
  const attrs = attrsOf(c);
  const nsp = c.x.length - 2;
  const x = { shape: c.x, values: randomArray(size(c.x), seed) };
  const k = { shape: c.k, values: randomArray(size(c.k), seed + 1) };
  const yShape = jsRun('conv', [x, k], attrs).shape;
  const dy = { shape: yShape, values: randomArray(size(yShape), seed + 2) };
  const label = `${dtype} ${caseLabel(c)}`;
  compare('conv', [x, k], attrs, dtype, `conv ${label}`);
  compare('convBackpropInput', [dy, k], { ...attrs, inputSize: c.x.slice(1, -1) }, dtype, `convBackpropInput ${label}`);
  compare('convBackpropFilter', [x, dy], { ...attrs, kernelSize: c.k.slice(0, nsp) }, dtype, `convBackpropFilter ${label}`);
}

/**
 * Random convolutions: 1-3 spatial dims, windows 1-5, strides and dilations up to 3, no /
 * 'same' / random (negative included) padding, one group / a few / depthwise with multipliers,
 * a quarter of them with images up to 30 and channels up to 64 a group (threads, several
 * tiles). Windows larger than the padded input are left out.
 */
function randomCases(seed: number, count: number): Case[] {
  const draw = draws(seed);
  const out: Case[] = [];
  while (out.length < count) {
    const nsp = 1 + draw(3);
    const big = draw(4) === 0;
    const kind = draw(4);
    let cinG = 1 + draw(big ? 64 : 12), coutG = 1 + draw(big ? 64 : 20), groups = 1;
    if (kind === 1) groups = 2 + draw(3);
    if (kind === 2) [groups, cinG, coutG] = [1 + draw(big ? 64 : 24), 1, 1 + draw(2)];
    const c: Case = { x: [1 + draw(big ? 4 : 3)], k: [], strides: [], dilation: [], padding: [], groups };
    let fits = true;
    for (let d = 0; d < nsp; d++) {
      const side = 1 + draw(nsp === 3 ? 7 : big ? 30 : 14), k = 1 + draw(nsp === 3 ? 3 : 5);
      const dil = draw(4) === 0 ? 1 + draw(3) : 1;
      const pad: Pair = draw(5) === 0 ? [draw(4) - 1, draw(4) - 1] : draw(2) ? [0, 0] : [((k - 1) >> 1) * dil, (k >> 1) * dil];
      c.x.push(side);
      c.k.push(k);
      c.strides!.push(draw(3) === 0 ? 1 + draw(3) : 1);
      c.dilation!.push(dil);
      c.padding!.push(pad);
      fits &&= side + pad[0] + pad[1] >= (k - 1) * dil + 1;
    }
    c.x.push(cinG * groups);
    c.k.push(cinG, coutG * groups);
    if (fits) out.push(c);
  }
  return out;
}

describe.each(isas)('conv on the %s path', (isa) => {
  it('float32 forward, input and filter gradients match the js kernels', () => {
    native.setIsa(isa);
    cases.forEach((c, i) => checkCase(c, 'float32', 10 + 3 * i));
  });

  it('float64 forward, input and filter gradients match the js kernels', () => {
    native.setIsa(isa);
    cases.forEach((c, i) => checkCase(c, 'float64', 200 + 3 * i));
  });

  it('a larger conv (threaded, many row tiles, K past one cache block) matches', () => {
    native.setIsa(isa);
    checkCase({ x: [4, 16, 16, 32], k: [3, 3, 32, 48], padding: [[1, 1], [1, 1]] }, 'float32', 7);
    checkCase({ x: [3, 15, 15, 24], k: [3, 3, 24, 24], strides: [2, 2], padding: [[0, 1], [0, 1]] }, 'float64', 8);
    // Input-gradient rows of one stride phase, 30 to an image row: tiles of every other pixel
    // written in place (a row stride of two pixels), and the row's last ones aside.
    checkCase({ x: [2, 5, 62, 16], k: [3, 3, 16, 24], strides: [2, 2], padding: [[1, 1], [1, 1]] }, 'float32', 9);
    // 9.4 MB of weights (512 -> 512, past 6x any L2 up to 1.5 MiB): the forward as one GEMM over
    // the gathered patches, padding as zeros; and its filter gradient likewise.
    checkCase({ x: [1, 3, 3, 512], k: [3, 3, 512, 512], padding: [[1, 1], [1, 1]] }, 'float32', 15);
    // Images of about 300 KB (dx and dy): with an L2 of 1 MiB or less, each image is its own
    // block of rows grouped by taps.
    checkCase({ x: [3, 24, 40, 64], k: [3, 3, 64, 64], strides: [2, 2], padding: [[1, 1], [1, 1]] }, 'float32', 10);
    // 1x1, stride 1, no padding: one packed GEMM over all pixels, forward and input gradient
    // (threaded, the reduction past one cache block of the GEMM), and the filter gradient
    // where dw is past half of L1 (the first and last cases here: 142 KiB, 32 KiB).
    checkCase({ x: [4, 12, 12, 520], k: [1, 1, 520, 70] }, 'float32', 11);
    checkCase({ x: [3, 17, 24], k: [1, 24, 10] }, 'float64', 12);
    checkCase({ x: [2, 6, 7, 64], k: [1, 1, 64, 64] }, 'float64', 13);
    // Depthwise filter gradient over chunks of 128 rows: chunks that start inside a window
    // row's pixels inside x (row 4 of 30 pixels, column 8), read at fixed tap offsets.
    checkCase({ x: [2, 9, 30, 16], k: [3, 3, 1, 16], groups: 16, padding: [[1, 1], [1, 1]] }, 'float32', 14);
  });

  it('first layers (under 8 channels a tap): window rows read at fixed offsets, edges and short rows through the tables', () => {
    native.setIsa(isa);
    // Output rows of 29 pixels: two whole 14-pixel tiles (avx512; 6 on avx2 and portable) and one
    // shifted back over its neighbour; 32 output channels, one register tile wide.
    checkCase({ x: [2, 9, 31, 1], k: [3, 3, 1, 32] }, 'float32', 41);
    // same padding: the edge pixels of each row and the first and last rows take the tables.
    checkCase({ x: [1, 7, 30, 3], k: [3, 3, 3, 16], padding: [[1, 1], [1, 1]] }, 'float32', 42);
    // Stride 2 (pixels 2 apart) with 20 output channels (a column tile past the channels).
    checkCase({ x: [1, 11, 45, 1], k: [5, 5, 1, 20], strides: [2, 2], padding: [[2, 2], [2, 2]] }, 'float32', 43);
    // Dilation and 2 channels; float64.
    checkCase({ x: [2, 8, 36, 2], k: [3, 3, 2, 24], dilation: [2, 3] }, 'float64', 44);
    // Negative padding (crops): rows start and end inside the input.
    checkCase({ x: [1, 9, 34, 2], k: [3, 3, 2, 16], padding: [[-1, 0], [0, -2]] }, 'float32', 47);
    // 1D and 3D windows.
    checkCase({ x: [3, 60, 1], k: [7, 1, 16], padding: [[3, 3]] }, 'float32', 45);
    checkCase({ x: [1, 4, 5, 22, 1], k: [2, 2, 3, 1, 8], padding: [[0, 0], [1, 0], [0, 0]] }, 'float32', 46);
  });

  it('few columns (1-8 output channels forward, 1-8 input channels backward): one dot product per value', () => {
    native.setIsa(isa);
    // A 1-channel image (the input gradient has one column) and an RGB one, same padding.
    checkCase({ x: [2, 10, 12, 1], k: [3, 3, 1, 32], padding: [[1, 1], [1, 1]] }, 'float32', 51);
    checkCase({ x: [1, 9, 11, 3], k: [3, 3, 3, 40], padding: [[1, 1], [1, 1]] }, 'float32', 52);
    // A decoder's output conv: 64 channels to 3, and to 1 with a stride (the input gradient's taps by phase).
    checkCase({ x: [2, 8, 8, 64], k: [3, 3, 64, 3], padding: [[1, 1], [1, 1]] }, 'float32', 53);
    checkCase({ x: [1, 11, 9, 37], k: [3, 3, 37, 1], strides: [2, 2] }, 'float64', 54);
    // Groups with two columns each, dilation, a 1D window.
    checkCase({ x: [2, 7, 7, 8], k: [3, 3, 4, 4], groups: 2, dilation: [2, 1], padding: [[1, 1], [0, 0]] }, 'float32', 55);
    checkCase({ x: [3, 40, 19], k: [5, 19, 2], padding: [[2, 2]] }, 'float64', 56);
  });

  it('rows whose taps outnumber the per-call tap table (over 2^20 entries) locate their taps row by row', () => {
    native.setIsa(isa);
    // 380 x 380 pixels x 9 taps: 1.3M entries an image. The forward's edge rows and the
    // 1-channel input gradient's rows take the row-by-row locator; the small cases above the table.
    checkCase({ x: [1, 380, 380, 1], k: [3, 3, 1, 2], padding: [[1, 1], [1, 1]] }, 'float32', 57);
  });

  it('filter-gradient tiles: every column-vector count, overhanging channel blocks, several row slots', () => {
    native.setIsa(isa);
    // Input channels 13 and 7: whole row tiles plus one shifted back over its neighbour.
    checkCase({ x: [2, 9, 9, 13], k: [3, 3, 13, 64], padding: [[1, 1], [1, 1]] }, 'float32', 31);
    checkCase({ x: [2, 6, 7, 7], k: [3, 3, 7, 48], strides: [2, 1], padding: [[1, 1], [0, 0]] }, 'float32', 32);
    // 24 and 20 output channels: a column tile shifted back (its first columns skipped).
    checkCase({ x: [1, 8, 8, 16], k: [2, 2, 16, 24], dilation: [2, 2] }, 'float32', 33);
    checkCase({ x: [2, 7, 7, 12], k: [3, 3, 6, 40], groups: 2, padding: [[1, 1], [1, 1]] }, 'float64', 34);
    // 5 input channels: fewer than a row tile, so the im2col rows of all 9 taps at once.
    checkCase({ x: [1, 6, 6, 5], k: [3, 3, 5, 80], padding: [[1, 1], [1, 1]] }, 'float32', 35);
    // 1600 rows: 13 row chunks over up to 8 slots, summed at the end.
    checkCase({ x: [4, 20, 20, 16], k: [3, 3, 16, 32], padding: [[1, 1], [1, 1]] }, 'float32', 36);
    checkCase({ x: [4, 20, 20, 16], k: [3, 3, 16, 64], strides: [2, 2], padding: [[1, 1], [1, 1]] }, 'float64', 37);
    // 160 output channels (rows of dy 640 bytes apart): shorter row chunks (64 or 48 rows with
    // an L1 of 48 or 32 KiB), the last one partial, two column blocks and a shifted-back third.
    checkCase({ x: [2, 9, 11, 8], k: [3, 3, 8, 160], padding: [[1, 1], [1, 1]] }, 'float32', 38);
    // dw of 4.7 MB (past twice any L2 up to 2 MiB): one GEMM over the gathered patches, padding as zeros.
    checkCase({ x: [1, 4, 5, 256], k: [3, 3, 256, 512], padding: [[1, 1], [1, 1]] }, 'float32', 39);
  });

  it('40 random configurations match in float32 and float64', () => {
    native.setIsa(isa);
    randomCases(2026, 40).forEach((c, i) => {
      checkCase(c, 'float32', 600 + 3 * i);
      checkCase(c, 'float64', 800 + 3 * i);
    });
  });
});

describe('conv edge cases', () => {
  it('size-0 batch and size-0 channels give empty or zero results', () => {
    const attrs = { strides: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 };
    const x0 = native.createTensor(new Float32Array(0), [0, 4, 4, 2], 'float32');
    const k = native.createTensor(new Float32Array(3 * 3 * 2 * 5).fill(1), [3, 3, 2, 5], 'float32');
    const [y0] = native.runKernel('conv', [x0, k], attrs);
    expect(y0!.shape).toEqual([0, 2, 2, 5]);
    const dy0 = native.createTensor(new Float32Array(0), [0, 2, 2, 5], 'float32');
    const [dw0] = native.runKernel('convBackpropFilter', [x0, dy0], { ...attrs, kernelSize: [3, 3] });
    expect(dw0!.shape).toEqual([3, 3, 2, 5]);
    expect(Array.from(dw0!.read())).toEqual(new Array(90).fill(0)); // an empty sum
    const [dx0] = native.runKernel('convBackpropInput', [dy0, k], { ...attrs, inputSize: [4, 4] });
    expect(dx0!.shape).toEqual([0, 4, 4, 2]);
    // No input channels: every output is an empty sum.
    const xc = native.createTensor(new Float64Array(0), [1, 3, 3, 0], 'float64');
    const kc = native.createTensor(new Float64Array(0), [1, 1, 0, 2], 'float64');
    const [yc] = native.runKernel('conv', [xc, kc], { ...attrs, padding: [0, 0, 0, 0] });
    expect(yc!.shape).toEqual([1, 3, 3, 2]);
    expect(Array.from(yc!.read())).toEqual(new Array(18).fill(0));
    // A 1x1 filter gradient of an empty batch, dw past half of L1 (the GEMM path): zeros.
    const xp = native.createTensor(new Float32Array(0), [0, 4, 4, 128], 'float32');
    const dyp = native.createTensor(new Float32Array(0), [0, 4, 4, 96], 'float32');
    const [dwp] = native.runKernel('convBackpropFilter', [xp, dyp], { ...attrs, kernelSize: [1, 1] });
    expect(dwp!.shape).toEqual([1, 1, 128, 96]);
    expect(Array.from(dwp!.read()).every((v) => v === 0), 'every entry of the 1x1 dw is 0').toBe(true);
    // A 3x3 filter gradient of an empty batch with a 4.7 MB dw (the patches' GEMM): zeros.
    const xg = native.createTensor(new Float32Array(0), [0, 3, 3, 256], 'float32');
    const dyg = native.createTensor(new Float32Array(0), [0, 3, 3, 512], 'float32');
    const [dwg] = native.runKernel('convBackpropFilter', [xg, dyg], { ...attrs, padding: [1, 1, 1, 1], kernelSize: [3, 3] });
    expect(dwg!.shape).toEqual([3, 3, 256, 512]);
    expect(Array.from(dwg!.read()).every((v) => v === 0), 'every entry of the large dw is 0').toBe(true);
    [x0, k, y0, dy0, dw0, dx0, xc, kc, yc, xp, dyp, dwp, xg, dyg, dwg].forEach((t) => t!.dispose());
  });

  it('hand-computed: a 1D box filter with padding', () => {
    const x = native.createTensor(new Float32Array([1, 2, 3, 4]), [1, 4, 1], 'float32');
    const k = native.createTensor(new Float32Array([1, 1, 1]), [3, 1, 1], 'float32');
    const [y] = native.runKernel('conv', [x, k], { strides: [1], padding: [1, 1], dilation: [1], groups: 1 });
    expect(Array.from(y!.read())).toEqual([3, 6, 9, 7]);
    const [y2] = native.runKernel('conv', [x, k], { strides: [2], padding: [1, 1], dilation: [1], groups: 1 });
    expect(Array.from(y2!.read())).toEqual([3, 9]);
    [x, k, y, y2].forEach((t) => t!.dispose());
  });

  it('repeated threaded calls give identical results (each output written by one thread, fixed sum order)', () => {
    const xv = randomArray(4 * 12 * 12 * 16, 3), kv = randomArray(3 * 3 * 16 * 16, 4);
    const x = native.createTensor(new Float32Array(xv), [4, 12, 12, 16], 'float32');
    const k = native.createTensor(new Float32Array(kv), [3, 3, 16, 16], 'float32');
    const attrs = { strides: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 };
    const [a] = native.runKernel('conv', [x, k], attrs);
    const [b] = native.runKernel('conv', [x, k], attrs);
    const [fa] = native.runKernel('convBackpropFilter', [x, a!], { ...attrs, kernelSize: [3, 3] });
    const [fb] = native.runKernel('convBackpropFilter', [x, a!], { ...attrs, kernelSize: [3, 3] });
    expect(Array.from(a!.read())).toEqual(Array.from(b!.read()));
    expect(Array.from(fa!.read())).toEqual(Array.from(fb!.read()));
    [x, k, a, b, fa, fb].forEach((t) => t!.dispose());
  });
});

describe.each(isas)('depthwise rows past the last-level cache on the %s path', (isa) => {
  // Source and result larger than the cache together: the result is written by streaming stores.
  // Its values must be the bits of the same images in a call small enough for plain stores, for
  // the forward and for the input gradient (the same kernel over flipped weights).
  const l3Bytes = native.backendInfo().cpu.l3Bytes;
  it.skipIf(l3Bytes > 64 * 1024 * 1024).each(['conv', 'convBackpropInput'])('%s gives the bits of its images alone', (op) => {
    native.setIsa(isa);
    const [h, w, c] = [24, 24, 64];
    const images = Math.ceil(l3Bytes / (2 * h * w * c * 4)) + 3, part = 2;
    const attrs = { strides: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: c, inputSize: [h, w] };
    const xs = Float32Array.from(randomArray(images * h * w * c, 41));
    const k = native.createTensor(Float32Array.from(randomArray(9 * c, 42)), [3, 3, 1, c], 'float32');
    const run = (values: Float32Array, n: number) => {
      const x = native.createTensor(values, [n, h, w, c], 'float32');
      const [y] = native.runKernel(op, [x, k], op === 'conv' ? { ...attrs, inputSize: undefined } : attrs);
      const out = y!.read() as Float32Array;
      [x, y!].forEach((t) => t.dispose());
      return out;
    };
    const whole = run(xs, images);
    const pixels = h * w * c;
    for (const from of [0, images - part]) {
      const alone = run(xs.slice(from * pixels, (from + part) * pixels), part);
      const i = alone.findIndex((v, j) => !Object.is(v, whole[from * pixels + j]));
      if (i >= 0) throw new Error(`${isa} ${op}: element ${from * pixels + i} is ${whole[from * pixels + i]} in the whole, ${alone[i]} alone`);
    }
    k.dispose();
  });
});

describe('conv errors', () => {
  const t = (shape: number[], dtype: NativeDType = 'float32') => native.createTensor(new (dtype === 'float64' ? Float64Array : Float32Array)(size(shape)) as Float32Array, shape, dtype);
  const attrs2 = { strides: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 };

  it('a channel mismatch names conv and both shapes', () => {
    const x = t([1, 5, 5, 3]), k = t([3, 3, 4, 8]);
    expect(() => native.runKernel('conv', [x, k], attrs2)).toThrow(/conv: inputs of shape \(1, 5, 5, 3\) have 3 channels but kernel of shape \(3, 3, 4, 8\)/);
    expect(() => native.runKernel('conv', [t([1, 5, 5, 4]), t([3, 3, 2, 7])], { ...attrs2, groups: 2 })).toThrow(/conv: .*not divisible by 2 groups/);
  });

  it('rank, dtype, window and attribute errors name the op', () => {
    expect(() => native.runKernel('conv', [t([5, 3]), t([3, 3, 8])], attrs2)).toThrow(/conv: inputs must have rank 3, 4 or 5/);
    expect(() => native.runKernel('conv', [t([1, 5, 5, 3]), t([3, 3, 3, 8], 'float64')], attrs2)).toThrow(/conv: inputs and kernel must be float tensors of one dtype, received float32 \(1, 5, 5, 3\) and float64/);
    expect(() => native.runKernel('conv', [t([1, 2, 2, 3]), t([3, 3, 3, 8])], attrs2)).toThrow(/conv: the window \(size 3, dilation 1\) is larger than the padded input/);
    expect(() => native.runKernel('conv', [t([1, 5, 5, 3]), t([3, 3, 3, 8])], { ...attrs2, padding: [1, 1] })).toThrow(/conv: attribute padding must have 4 entries/);
    expect(() => native.runKernel('conv', [t([1, 5, 5, 3]), t([3, 3, 3, 8])], { ...attrs2, strides: [0, 1] })).toThrow(/conv: attribute strides must be >= 1/);
    expect(() => native.runKernel('convBackpropInput', [t([1, 3, 3, 7]), t([3, 3, 3, 8])], { ...attrs2, inputSize: [5, 5] })).toThrow(/convBackpropInput: dy of shape \(1, 3, 3, 7\) has 7 channels but kernel of shape \(3, 3, 3, 8\)/);
    expect(() => native.runKernel('convBackpropInput', [t([1, 4, 3, 8]), t([3, 3, 3, 8])], { ...attrs2, inputSize: [5, 5] })).toThrow(/convBackpropInput: dy of shape \(1, 4, 3, 8\) does not match the convolution output spatial dims \(3, 3\)/);
    expect(() => native.runKernel('convBackpropFilter', [t([1, 5, 5, 3]), t([1, 3, 4, 8])], { ...attrs2, kernelSize: [3, 3] })).toThrow(/convBackpropFilter: dy of shape \(1, 3, 4, 8\) does not match/);
    expect(() => native.runKernel('convBackpropFilter', [t([1, 5, 5, 3]), t([1, 3, 3, 8])], { ...attrs2, groups: 2, kernelSize: [3, 3] })).toThrow(/convBackpropFilter: channels of inputs \(1, 5, 5, 3\) and dy \(1, 3, 3, 8\) must be divisible by 2 groups/);
  });
});
