/**
 * Convolution and pooling kernels of the js backend, channels_last. Every op
 * views its operands as 3 spatial dims (1D and 2D get leading size-1 dims), so
 * one set of direct loops serves 1D/2D/3D. Loop order: for each output pixel and
 * kernel tap, the Cin x Cout weight row is inner-most and contiguous in Cout.
 * Accumulation is in float64.
 */
import { allocate, type TypedArray } from '../../dtype.js';
import { sizeOf } from '../../shape.js';
import type { Kernel } from '../backend.js';
import { JsStorage, valuesOf } from './storage.js';

type Pair = [number, number];

/** A window sweep over 3 spatial dims (D, H, W), with padding before each. */
interface Geom {
  n: number;
  inD: number;
  inH: number;
  inW: number;
  outD: number;
  outH: number;
  outW: number;
  kD: number;
  kH: number;
  kW: number;
  sD: number;
  sH: number;
  sW: number;
  dD: number;
  dH: number;
  dW: number;
  pD: number;
  pH: number;
  pW: number;
}

function to3(v: readonly number[], fill: number): number[] {
  return [...new Array<number>(3 - v.length).fill(fill), ...v];
}

function geometry(n: number, inSpatial: readonly number[], outSpatial: readonly number[], k: readonly number[], strides: readonly number[], dilation: readonly number[], padding: readonly Pair[]): Geom {
  const [inD, inH, inW] = to3(inSpatial, 1);
  const [outD, outH, outW] = to3(outSpatial, 1);
  const [kD, kH, kW] = to3(k, 1);
  const [sD, sH, sW] = to3(strides, 1);
  const [dD, dH, dW] = to3(dilation, 1);
  const [pD, pH, pW] = to3(
    padding.map((p) => p[0]),
    0,
  );
  return { n, inD, inH, inW, outD, outH, outW, kD, kH, kW, sD, sH, sW, dD, dH, dW, pD, pH, pW };
}

/**
 * Calls `visit(outPixel, inPixel, tap)` for every (output pixel, kernel tap) pair
 * whose input pixel lies inside the input (padding contributes nothing).
 */
function sweep(g: Geom, visit: (outPixel: number, inPixel: number, tap: number) => void): void {
  const { n, inD, inH, inW, outD, outH, outW, kD, kH, kW, sD, sH, sW, dD, dH, dW, pD, pH, pW } = g;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let od = 0; od < outD; od++) {
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++, o++) {
          for (let kd = 0; kd < kD; kd++) {
            const id = od * sD - pD + kd * dD;
            if (id < 0 || id >= inD) continue;
            for (let kh = 0; kh < kH; kh++) {
              const ih = oh * sH - pH + kh * dH;
              if (ih < 0 || ih >= inH) continue;
              const rowBase = ((b * inD + id) * inH + ih) * inW;
              const tapBase = (kd * kH + kh) * kW;
              for (let kw = 0; kw < kW; kw++) {
                const iw = ow * sW - pW + kw * dW;
                if (iw < 0 || iw >= inW) continue;
                visit(o, rowBase + iw, tapBase + kw);
              }
            }
          }
        }
      }
    }
  }
}

interface ConvAttrs {
  strides: number[];
  padding: Pair[];
  dilation: number[];
  groups: number;
}

function finish(acc: Float64Array, dtype: Parameters<typeof allocate>[0]): JsStorage {
  const res = allocate(dtype, acc.length);
  res.set(acc);
  return new JsStorage(res);
}

type ConvLoop = (g: Geom, a: TypedArray, b: TypedArray, out: Float64Array, cin: number, cout: number, groups: number) => void;

/**
 * Generates a conv loop: the sweep above with `body` inlined for each (o, i, tap)
 * and group gi, so V8 compiles one monomorphic loop nest per kernel. The body sees
 * yb (output row), xg (input row) and wg (weight row) offsets of the group and
 * unrolls over 4 input channels to share loads.
 */
function convLoop(body: string): ConvLoop {
  return new Function('g', 'a', 'b', 'out', 'cin', 'cout', 'groups', `
    const { n, inD, inH, inW, outD, outH, outW, kD, kH, kW, sD, sH, sW, dD, dH, dW, pD, pH, pW } = g;
    const cinG = cin / groups, coutG = cout / groups, tapSize = cinG * cout;
    let o = 0;
    for (let bt = 0; bt < n; bt++)
    for (let od = 0; od < outD; od++)
    for (let oh = 0; oh < outH; oh++)
    for (let ow = 0; ow < outW; ow++, o++) {
      for (let kd = 0; kd < kD; kd++) {
        const id = od * sD - pD + kd * dD;
        if (id < 0 || id >= inD) continue;
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH - pH + kh * dH;
          if (ih < 0 || ih >= inH) continue;
          const rowBase = ((bt * inD + id) * inH + ih) * inW;
          const tapBase = (kd * kH + kh) * kW;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW - pW + kw * dW;
            if (iw < 0 || iw >= inW) continue;
            const ob = o * cout, xb = (rowBase + iw) * cin, wt = (tapBase + kw) * tapSize;
            for (let gi = 0; gi < groups; gi++) {
              const yb = ob + gi * coutG, xg = xb + gi * cinG, wg = wt + gi * coutG;
              ${body}
            }
          }
        }
      }
    }`) as ConvLoop;
}

/** y[o, co] += x[i, ci] * w[tap, ci, co]; a = x, b = w, out = y. */
const convForward = convLoop(`
  let ci = 0;
  for (; ci + 4 <= cinG; ci += 4) {
    const x0 = a[xg + ci], x1 = a[xg + ci + 1], x2 = a[xg + ci + 2], x3 = a[xg + ci + 3];
    const w0 = wg + ci * cout, w1 = w0 + cout, w2 = w1 + cout, w3 = w2 + cout;
    for (let j = 0; j < coutG; j++) out[yb + j] += x0 * b[w0 + j] + x1 * b[w1 + j] + x2 * b[w2 + j] + x3 * b[w3 + j];
  }
  for (; ci < cinG; ci++) {
    const x0 = a[xg + ci], w0 = wg + ci * cout;
    for (let j = 0; j < coutG; j++) out[yb + j] += x0 * b[w0 + j];
  }`);

/** dx[i, ci] += sum over co of dy[o, co] * w[tap, ci, co]; a = dy, b = w, out = dx. */
const convInputGrad = convLoop(`
  let ci = 0;
  for (; ci + 4 <= cinG; ci += 4) {
    const w0 = wg + ci * cout, w1 = w0 + cout, w2 = w1 + cout, w3 = w2 + cout;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < coutG; j++) {
      const d = a[yb + j];
      s0 += d * b[w0 + j]; s1 += d * b[w1 + j]; s2 += d * b[w2 + j]; s3 += d * b[w3 + j];
    }
    out[xg + ci] += s0; out[xg + ci + 1] += s1; out[xg + ci + 2] += s2; out[xg + ci + 3] += s3;
  }
  for (; ci < cinG; ci++) {
    const w0 = wg + ci * cout;
    let s0 = 0;
    for (let j = 0; j < coutG; j++) s0 += a[yb + j] * b[w0 + j];
    out[xg + ci] += s0;
  }`);

/** dw[tap, ci, co] += x[i, ci] * dy[o, co]; a = x, b = dy, out = dw. */
const convFilterGrad = convLoop(`
  let ci = 0;
  for (; ci + 4 <= cinG; ci += 4) {
    const x0 = a[xg + ci], x1 = a[xg + ci + 1], x2 = a[xg + ci + 2], x3 = a[xg + ci + 3];
    const w0 = wg + ci * cout, w1 = w0 + cout, w2 = w1 + cout, w3 = w2 + cout;
    for (let j = 0; j < coutG; j++) {
      const d = b[yb + j];
      out[w0 + j] += x0 * d; out[w1 + j] += x1 * d; out[w2 + j] += x2 * d; out[w3 + j] += x3 * d;
    }
  }
  for (; ci < cinG; ci++) {
    const x0 = a[xg + ci], w0 = wg + ci * cout;
    for (let j = 0; j < coutG; j++) out[w0 + j] += x0 * b[yb + j];
  }`);

const conv: Kernel = ([x, w], attrs, [out]) => {
  const a = attrs as unknown as ConvAttrs;
  const r = x.shape.length;
  const g = geometry(x.shape[0], x.shape.slice(1, -1), out.shape.slice(1, -1), w.shape.slice(0, r - 2), a.strides, a.dilation, a.padding);
  const acc = new Float64Array(sizeOf(out.shape));
  convForward(g, valuesOf(x), valuesOf(w), acc, x.shape[r - 1], w.shape[r - 1], a.groups);
  return [finish(acc, out.dtype)];
};

const convBackpropInput: Kernel = ([dy, w], attrs, [out]) => {
  const a = attrs as unknown as ConvAttrs;
  const r = dy.shape.length;
  const g = geometry(dy.shape[0], out.shape.slice(1, -1), dy.shape.slice(1, -1), w.shape.slice(0, r - 2), a.strides, a.dilation, a.padding);
  const acc = new Float64Array(sizeOf(out.shape));
  convInputGrad(g, valuesOf(dy), valuesOf(w), acc, out.shape[r - 1], dy.shape[r - 1], a.groups);
  return [finish(acc, out.dtype)];
};

const convBackpropFilter: Kernel = ([x, dy], attrs, [out]) => {
  const a = attrs as unknown as ConvAttrs;
  const r = x.shape.length;
  const g = geometry(x.shape[0], x.shape.slice(1, -1), dy.shape.slice(1, -1), out.shape.slice(0, r - 2), a.strides, a.dilation, a.padding);
  const acc = new Float64Array(sizeOf(out.shape));
  convFilterGrad(g, valuesOf(x), valuesOf(dy), acc, x.shape[r - 1], dy.shape[r - 1], a.groups);
  return [finish(acc, out.dtype)];
};

interface PoolAttrs {
  poolSize: number[];
  strides: number[];
  padding: Pair[];
}

function poolGeometry(x: { shape: number[] }, outSpatial: number[], a: PoolAttrs): Geom {
  return geometry(x.shape[0], x.shape.slice(1, -1), outSpatial, a.poolSize, a.strides, a.poolSize.map(() => 1), a.padding);
}

/**
 * For each (output pixel, channel), the flat input index of the window's maximum
 * (first one on ties; NaN wins), or -1 for an empty window.
 */
function maxPoolArg(x: TypedArray, g: Geom, c: number, outPixels: number): { best: Float64Array; arg: Int32Array } {
  const best = new Float64Array(outPixels * c).fill(-Infinity);
  const arg = new Int32Array(outPixels * c).fill(-1);
  sweep(g, (o, i) => {
    const ob = o * c;
    const xb = i * c;
    for (let k = 0; k < c; k++) {
      const v = x[xb + k];
      const b = best[ob + k];
      if (v > b || (v !== v && b === b) || arg[ob + k] < 0) {
        best[ob + k] = v;
        arg[ob + k] = xb + k;
      }
    }
  });
  return { best, arg };
}

const maxPool: Kernel = ([x], attrs, [out]) => {
  const c = x.shape[x.shape.length - 1];
  const g = poolGeometry(x, out.shape.slice(1, -1), attrs as unknown as PoolAttrs);
  const { best } = maxPoolArg(valuesOf(x), g, c, sizeOf(out.shape) / (c || 1));
  return [finish(best, out.dtype)];
};

const maxPoolGrad: Kernel = ([x, dy], attrs, [out]) => {
  const c = x.shape[x.shape.length - 1];
  const g = poolGeometry(x, dy.shape.slice(1, -1), attrs as unknown as PoolAttrs);
  const { arg } = maxPoolArg(valuesOf(x), g, c, sizeOf(dy.shape) / (c || 1));
  const d = valuesOf(dy);
  const acc = new Float64Array(sizeOf(out.shape));
  for (let k = 0; k < arg.length; k++) if (arg[k] >= 0) acc[arg[k]] += d[k];
  return [finish(acc, out.dtype)];
};

/** Number of in-bounds taps of each output pixel (padding is not counted, as Keras/TF 'same'). */
function tapCounts(g: Geom, outPixels: number): Int32Array {
  const counts = new Int32Array(outPixels);
  sweep({ ...g, n: 1 }, (o) => counts[o]++);
  return counts;
}

const avgPool: Kernel = ([x], attrs, [out]) => {
  const c = x.shape[x.shape.length - 1];
  const g = poolGeometry(x, out.shape.slice(1, -1), attrs as unknown as PoolAttrs);
  const counts = tapCounts(g, g.outD * g.outH * g.outW);
  const per = counts.length;
  const v = valuesOf(x);
  const acc = new Float64Array(sizeOf(out.shape));
  sweep(g, (o, i) => {
    const ob = o * c;
    const xb = i * c;
    for (let k = 0; k < c; k++) acc[ob + k] += v[xb + k];
  });
  for (let o = 0, p = 0; o < acc.length; o += c, p++) {
    const inv = 1 / counts[p % per];
    for (let k = 0; k < c; k++) acc[o + k] *= inv;
  }
  return [finish(acc, out.dtype)];
};

const avgPoolGrad: Kernel = ([dy], attrs, [out]) => {
  const c = dy.shape[dy.shape.length - 1];
  const g = poolGeometry(out, dy.shape.slice(1, -1), attrs as unknown as PoolAttrs);
  const counts = tapCounts(g, g.outD * g.outH * g.outW);
  const per = counts.length;
  const d = valuesOf(dy);
  const acc = new Float64Array(sizeOf(out.shape));
  sweep(g, (o, i) => {
    const ob = o * c;
    const xb = i * c;
    const inv = 1 / counts[o % per];
    for (let k = 0; k < c; k++) acc[xb + k] += d[ob + k] * inv;
  });
  return [finish(acc, out.dtype)];
};

export const nnKernels: Record<string, Kernel> = { conv, convBackpropInput, convBackpropFilter, maxPool, maxPoolGrad, avgPool, avgPoolGrad };
