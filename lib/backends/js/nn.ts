/**
 * Convolution, pooling, softmax and layer-norm kernels of the js backend. Conv and pooling are channels_last; every one
 * views its operands as 3 spatial dims (1D and 2D get leading size-1 dims), so
 * one set of direct loops serves 1D/2D/3D. Convolutions walk output pixels; each
 * pixel's valid (tap, input channel) pairs form an im2col row, and the weight rows
 * they select ([..., Cin/groups, Cout], contiguous in Cout) are the inner-most loop,
 * unrolled 4 rows at a time. Accumulation is in float64.
 */
import { allocate, type DType, type TypedArray } from '../../dtype.js';
import { sizeOf } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Kernel } from '../backend.js';
import { matmulKernel } from './linalg.js';
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

/**
 * For each output pixel (batch excluded), its in-bounds kernel taps in CSR form:
 * taps of pixel q are entries start[q]..start[q+1] with input pixel inPix and tap index.
 * Padding taps are left out, so the conv loops never multiply by padded zeros.
 */
function tapTable(g: Geom): { start: Int32Array; inPix: Int32Array; tap: Int32Array; maxTaps: number } {
  const pixels = g.outD * g.outH * g.outW;
  const start = new Int32Array(pixels + 1);
  const inPix: number[] = [];
  const tap: number[] = [];
  sweep({ ...g, n: 1 }, (o, i, t) => {
    start[o + 1]++;
    inPix.push(i);
    tap.push(t);
  });
  let maxTaps = 0;
  for (let q = 0; q < pixels; q++) {
    maxTaps = Math.max(maxTaps, start[q + 1]);
    start[q + 1] += start[q];
  }
  return { start, inPix: Int32Array.from(inPix), tap: Int32Array.from(tap), maxTaps };
}

/**
 * The im2col row of one output pixel, as offsets for group 0: xo[p] into the input
 * and wo[p] to the start of a weight row (Cout contiguous weights), for each valid
 * (tap, input channel) pair p. Group gi adds gi * cinG and gi * coutG. Returns the row length.
 */
function patchOffsets(table: ReturnType<typeof tapTable>, q: number, pixelBase: number, cin: number, cinG: number, cout: number, xo: Int32Array, wo: Int32Array): number {
  const { start, inPix, tap } = table;
  let k = 0;
  for (let e = start[q]; e < start[q + 1]; e++) {
    const xb = (pixelBase + inPix[e]) * cin;
    const wb = tap[e] * cinG * cout;
    for (let ci = 0; ci < cinG; ci++, k++) {
      xo[k] = xb + ci;
      wo[k] = wb + ci * cout;
    }
  }
  return k;
}

interface ConvArgs {
  g: Geom;
  cin: number;
  cout: number;
  groups: number;
}

/** Shared setup of the three conv loops: tap table and patch scratch space. */
function convSetup({ g, cin, cout, groups }: ConvArgs) {
  const table = tapTable(g);
  const cinG = cin / groups;
  const coutG = cout / groups;
  const maxK = table.maxTaps * cinG;
  return { table, cinG, coutG, xo: new Int32Array(maxK), wo: new Int32Array(maxK), pv: new Float64Array(maxK), pixels: table.start.length - 1, inPixels: g.inD * g.inH * g.inW };
}

/**
 * The loop nest shared by the three conv kernels: for each batch, output pixel and group,
 * the k valid taps of the patch (input offsets `xo`, weight-row offsets `wo`, scratch `pv`), the group's
 * input-channel and output-channel starts (xs, ws) and the output row start (yb).
 */
function forEachPatch(args: ConvArgs, visit: (k: number, xs: number, ws: number, yb: number, xo: Int32Array, wo: Int32Array, coutG: number, pv: Float64Array) => void): void {
  const { cin, cout, groups } = args;
  const { table, cinG, coutG, xo, wo, pv, pixels, inPixels } = convSetup(args);
  for (let b = 0; b < args.g.n; b++) {
    for (let q = 0; q < pixels; q++) {
      const k = patchOffsets(table, q, b * inPixels, cin, cinG, cout, xo, wo);
      const ob = (b * pixels + q) * cout;
      for (let gi = 0; gi < groups; gi++) visit(k, gi * cinG, gi * coutG, ob + gi * coutG, xo, wo, coutG, pv);
    }
  }
}

/** y[o, co] += sum_p patch[p] * w[row p, co]: a GEMV per output pixel and group, unrolled by 4 rows. */
function convForward(args: ConvArgs, x: TypedArray, w: TypedArray, y: Float64Array): void {
  forEachPatch(args, (k, xs, ws, yb, xo, wo, coutG, pv) => {
    for (let p = 0; p < k; p++) pv[p] = x[xo[p] + xs];
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const a0 = pv[p], a1 = pv[p + 1], a2 = pv[p + 2], a3 = pv[p + 3];
      const w0 = wo[p] + ws, w1 = wo[p + 1] + ws, w2 = wo[p + 2] + ws, w3 = wo[p + 3] + ws;
      for (let j = 0; j < coutG; j++) y[yb + j] += a0 * w[w0 + j] + a1 * w[w1 + j] + a2 * w[w2 + j] + a3 * w[w3 + j];
    }
    for (; p < k; p++) {
      const a0 = pv[p], w0 = wo[p] + ws;
      for (let j = 0; j < coutG; j++) y[yb + j] += a0 * w[w0 + j];
    }
  });
}

/** dx[patch p] += sum_co dy[o, co] * w[row p, co]: dot products contiguous in Cout, 4 rows share each dy load. */
function convInputGrad(args: ConvArgs, dy: TypedArray, w: TypedArray, dx: Float64Array): void {
  forEachPatch(args, (k, xs, ws, yb, xo, wo, coutG) => {
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const w0 = wo[p] + ws, w1 = wo[p + 1] + ws, w2 = wo[p + 2] + ws, w3 = wo[p + 3] + ws;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < coutG; j++) {
        const d = dy[yb + j];
        s0 += d * w[w0 + j];
        s1 += d * w[w1 + j];
        s2 += d * w[w2 + j];
        s3 += d * w[w3 + j];
      }
      dx[xo[p] + xs] += s0;
      dx[xo[p + 1] + xs] += s1;
      dx[xo[p + 2] + xs] += s2;
      dx[xo[p + 3] + xs] += s3;
    }
    for (; p < k; p++) {
      const w0 = wo[p] + ws;
      let s0 = 0;
      for (let j = 0; j < coutG; j++) s0 += dy[yb + j] * w[w0 + j];
      dx[xo[p] + xs] += s0;
    }
  });
}

/** dw[row p, co] += patch[p] * dy[o, co]: rank-1 updates, 4 rows share each dy load. */
function convFilterGrad(args: ConvArgs, x: TypedArray, dy: TypedArray, dw: Float64Array): void {
  forEachPatch(args, (k, xs, ws, yb, xo, wo, coutG, pv) => {
    for (let p = 0; p < k; p++) pv[p] = x[xo[p] + xs];
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const a0 = pv[p], a1 = pv[p + 1], a2 = pv[p + 2], a3 = pv[p + 3];
      const w0 = wo[p] + ws, w1 = wo[p + 1] + ws, w2 = wo[p + 2] + ws, w3 = wo[p + 3] + ws;
      for (let j = 0; j < coutG; j++) {
        const d = dy[yb + j];
        dw[w0 + j] += a0 * d;
        dw[w1 + j] += a1 * d;
        dw[w2 + j] += a2 * d;
        dw[w3 + j] += a3 * d;
      }
    }
    for (; p < k; p++) {
      const a0 = pv[p], w0 = wo[p] + ws;
      for (let j = 0; j < coutG; j++) dw[w0 + j] += a0 * dy[yb + j];
    }
  });
}

const conv: Kernel = ([x, w], attrs, [out]) => {
  const a = attrs as unknown as ConvAttrs;
  const r = x.shape.length;
  const g = geometry(x.shape[0], x.shape.slice(1, -1), out.shape.slice(1, -1), w.shape.slice(0, r - 2), a.strides, a.dilation, a.padding);
  const acc = new Float64Array(sizeOf(out.shape));
  convForward({ g, cin: x.shape[r - 1], cout: w.shape[r - 1], groups: a.groups }, valuesOf(x), valuesOf(w), acc);
  return [finish(acc, out.dtype)];
};

const convBackpropInput: Kernel = ([dy, w], attrs, [out]) => {
  const a = attrs as unknown as ConvAttrs;
  const r = dy.shape.length;
  const g = geometry(dy.shape[0], out.shape.slice(1, -1), dy.shape.slice(1, -1), w.shape.slice(0, r - 2), a.strides, a.dilation, a.padding);
  const acc = new Float64Array(sizeOf(out.shape));
  convInputGrad({ g, cin: out.shape[r - 1], cout: dy.shape[r - 1], groups: a.groups }, valuesOf(dy), valuesOf(w), acc);
  return [finish(acc, out.dtype)];
};

const convBackpropFilter: Kernel = ([x, dy], attrs, [out]) => {
  const a = attrs as unknown as ConvAttrs;
  const r = x.shape.length;
  const g = geometry(x.shape[0], x.shape.slice(1, -1), dy.shape.slice(1, -1), out.shape.slice(0, r - 2), a.strides, a.dilation, a.padding);
  const acc = new Float64Array(sizeOf(out.shape));
  convFilterGrad({ g, cin: x.shape[r - 1], cout: dy.shape[r - 1], groups: a.groups }, valuesOf(x), valuesOf(dy), acc);
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
  const v = valuesOf(x);
  const { arg } = maxPoolArg(v, g, c, sizeOf(dy.shape) / (c || 1));
  const d = valuesOf(dy);
  const positiveOnly = attrs.positiveMax === true; // windows whose max is not > 0 route nothing
  const acc = new Float64Array(sizeOf(out.shape));
  for (let k = 0; k < arg.length; k++) if (arg[k] >= 0 && (!positiveOnly || v[arg[k]] > 0)) acc[arg[k]] += d[k];
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

/**
 * softmax / logSoftmax over one axis: the input is [outer, n, inner]; each (outer, inner)
 * row is read with stride `inner`, its max subtracted, exps summed in float64 once.
 */
function rowKernel(log: boolean): Kernel {
  return ([x], attrs, [out]) => {
    const axis = attrs.axis as number;
    const n = x.shape[axis];
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outer = sizeOf(x.shape.slice(0, axis));
    const v = valuesOf(x);
    const res = allocate(out.dtype, v.length);
    const e = new Float64Array(n);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let m = -Infinity;
        for (let k = 0; k < n; k++) m = Math.max(m, v[base + k * inner]);
        let s = 0;
        for (let k = 0; k < n; k++) s += e[k] = Math.exp(v[base + k * inner] - m);
        if (log) {
          const ls = Math.log(s);
          for (let k = 0; k < n; k++) res[base + k * inner] = v[base + k * inner] - m - ls;
        } else {
          const inv = 1 / s;
          for (let k = 0; k < n; k++) res[base + k * inner] = e[k] * inv;
        }
      }
    }
    return [new JsStorage(res)];
  };
}

/**
 * softmaxGrad [y, dy] -> y * (dy - sum(dy * y)) per row along `axis` (`log`: logSoftmaxGrad,
 * dy - exp(y) * sum(dy) with y the logSoftmax), in float64, each value rounded once.
 */
function softmaxGradKernel(log: boolean): Kernel {
  return ([y, dy], attrs, [out]) => {
    const axis = attrs.axis as number;
    const n = y.shape[axis];
    const inner = sizeOf(y.shape.slice(axis + 1));
    const outer = sizeOf(y.shape.slice(0, axis));
    const yv = valuesOf(y), dv = valuesOf(dy);
    const res = allocate(out.dtype, yv.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let s = 0;
        for (let k = 0; k < n; k++) s += log ? dv[base + k * inner] : yv[base + k * inner] * dv[base + k * inner];
        for (let k = 0; k < n; k++) {
          const at = base + k * inner;
          res[at] = log ? dv[at] - Math.exp(yv[at]) * s : yv[at] * (dv[at] - s);
        }
      }
    }
    return [new JsStorage(res)];
  };
}

/**
 * sparseSoftmaxCrossEntropyGrad [labels, logits, dy] -> (p * valid - hot) * dy per row, p the
 * softmax kernel's row, each op rounded to the dtype as the composite it replaces.
 */
const sparseSoftmaxCrossEntropyGrad: Kernel = ([labels, logits, dy], attrs, [out]) => {
  const n = logits.shape[logits.shape.length - 1];
  const [p] = rowKernel(false)([logits], { axis: logits.shape.length - 1 }, [out]) as JsStorage[];
  const pv = p!.data, l = valuesOf(labels), dv = valuesOf(dy);
  const round = out.dtype === 'float32' ? Math.fround : (v: number) => v;
  for (let r = 0; r < l.length; r++) {
    const valid = l[r]! >= 0 && l[r]! < n ? 1 : 0;
    for (let k = 0; k < n; k++) {
      const at = r * n + k;
      pv[at] = round(round(pv[at]! * valid - (k === l[r] ? 1 : 0)) * dv[r]!);
    }
  }
  return [p!];
};

/** Per-row log-sum-exp minus the label's logit (last axis); 0 for labels outside [0, n). */
const sparseSoftmaxCrossEntropy: Kernel = ([labels, logits], _attrs, [out]) => {
  const n = logits.shape[logits.shape.length - 1];
  const l = valuesOf(labels);
  const v = valuesOf(logits);
  const res = allocate(out.dtype, l.length);
  for (let r = 0; r < l.length; r++) {
    const lab = l[r];
    if (lab < 0 || lab >= n) continue;
    const base = r * n;
    let m = -Infinity;
    for (let k = 0; k < n; k++) m = Math.max(m, v[base + k]);
    let s = 0;
    for (let k = 0; k < n; k++) s += Math.exp(v[base + k] - m);
    res[r] = Math.log(s) - (v[base + lab] - m);
  }
  return [new JsStorage(res)];
};

/**
 * layerNorm: each row x[r, :] (the trailing dims from `axis`) in float64: mean (0 for rms),
 * var = mean((x - mean)^2) (two passes), rstd = 1 / sqrt(var + epsilon),
 * y = (x - mean) * rstd * gamma + beta, rounded once to x's dtype.
 */
const layerNorm: Kernel = ([x, gamma, beta], attrs, [yOut, statOut]) => {
  const eps = attrs.epsilon as number;
  const rms = attrs.rms as boolean;
  const n = sizeOf(x.shape.slice(attrs.axis as number));
  const rows = sizeOf(x.shape.slice(0, attrs.axis as number));
  const v = valuesOf(x), g = valuesOf(gamma), b = valuesOf(beta);
  const y = allocate(yOut.dtype, v.length);
  const means = allocate(statOut.dtype, rows), rstds = allocate(statOut.dtype, rows);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let m = 0;
    if (!rms) {
      for (let k = 0; k < n; k++) m += v[base + k];
      m /= n;
    }
    let ss = 0;
    for (let k = 0; k < n; k++) ss += (v[base + k] - m) ** 2;
    const rstd = 1 / Math.sqrt(ss / n + eps);
    for (let k = 0; k < n; k++) y[base + k] = (v[base + k] - m) * rstd * g[k] + b[k];
    means[r] = m;
    rstds[r] = rstd;
  }
  return [new JsStorage(y), new JsStorage(means), new JsStorage(rstds)];
};

/**
 * layerNormGrad, per row in float64 from the stored mean and rstd: xhat = (x - mean) * rstd,
 * g = dy * gamma, dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (rms: no mean(g));
 * dgamma and dbeta sum dy * xhat and dy over the rows.
 */
const layerNormGrad: Kernel = ([dy, x, gamma, mean, rstd], attrs, [dxOut, dgOut]) => {
  const rms = attrs.rms as boolean;
  const n = sizeOf(x.shape.slice(attrs.axis as number));
  const rows = sizeOf(x.shape.slice(0, attrs.axis as number));
  const d = valuesOf(dy), v = valuesOf(x), g = valuesOf(gamma), ms = valuesOf(mean), rs = valuesOf(rstd);
  const dx = allocate(dxOut.dtype, v.length);
  const dgamma = new Float64Array(n), dbeta = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const m = ms[r], s = rs[r];
    let sumG = 0, sumGx = 0;
    for (let k = 0; k < n; k++) {
      const xh = (v[base + k] - m) * s;
      const gk = d[base + k] * g[k];
      sumG += gk;
      sumGx += gk * xh;
      dgamma[k] += d[base + k] * xh;
      dbeta[k] += d[base + k];
    }
    const a = rms ? 0 : sumG / n, c = sumGx / n;
    for (let k = 0; k < n; k++) dx[base + k] = s * (d[base + k] * g[k] - a - (v[base + k] - m) * s * c);
  }
  return [new JsStorage(dx), finish(dgamma, dgOut.dtype), finish(dbeta, dgOut.dtype)];
};

/** The logistic function in float64 (the fused cells' gates). */
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * lstmCell [x, rec, c] -> [h, c', acts] in float64, each value rounded once: with z = x + rec,
 * i, f, o the sigmoids and g the tanh of z's column blocks, c' = f c + i g, h = o tanh(c');
 * acts = (i, f, g, o, tanh(c')).
 */
const lstmCell: Kernel = ([x, rec, c], _attrs, [hOut, cOut, actsOut]) => {
  const [batch, units] = c.shape as [number, number];
  const xv = valuesOf(x), rv = valuesOf(rec), cv = valuesOf(c);
  const zv = (j: number) => xv[j]! + rv[j]!;
  const h = allocate(hOut.dtype, batch * units), cNew = allocate(cOut.dtype, batch * units);
  const acts = allocate(actsOut.dtype, batch * 5 * units);
  for (let r = 0; r < batch; r++) {
    for (let k = 0; k < units; k++) {
      const zi = r * 4 * units + k, at = r * units + k, a = r * 5 * units + k;
      const i = sigmoid(zv(zi)), f = sigmoid(zv(zi + units)), g = Math.tanh(zv(zi + 2 * units)), o = sigmoid(zv(zi + 3 * units));
      const cn = f * cv[at]! + i * g;
      const t = Math.tanh(cn);
      cNew[at] = cn;
      h[at] = o * t;
      [acts[a], acts[a + units], acts[a + 2 * units], acts[a + 3 * units], acts[a + 4 * units]] = [i, f, g, o, t];
    }
  }
  return [new JsStorage(h), new JsStorage(cNew), new JsStorage(acts)];
};

/** lstmCellGrad [acts, c, dh, dc] -> [dz, dcPrev] (lib/ops/rnn.ts), in float64. */
const lstmCellGrad: Kernel = ([acts, c, dh, dc], _attrs, [dzOut, dcOut]) => {
  const [batch, units] = c.shape as [number, number];
  const av = valuesOf(acts), cv = valuesOf(c), dhv = valuesOf(dh), dcv = valuesOf(dc);
  const dz = allocate(dzOut.dtype, batch * 4 * units), dcPrev = allocate(dcOut.dtype, batch * units);
  for (let r = 0; r < batch; r++) {
    for (let k = 0; k < units; k++) {
      const at = r * units + k, a = r * 5 * units + k, base = r * 4 * units + k;
      const [i, f, g, o, t] = [av[a]!, av[a + units]!, av[a + 2 * units]!, av[a + 3 * units]!, av[a + 4 * units]!];
      const d = dcv[at]! + dhv[at]! * o * (1 - t * t);
      dz[base] = d * g * i * (1 - i);
      dz[base + units] = d * cv[at]! * f * (1 - f);
      dz[base + 2 * units] = d * i * (1 - g * g);
      dz[base + 3 * units] = dhv[at]! * t * o * (1 - o);
      dcPrev[at] = d * f;
    }
  }
  return [new JsStorage(dz), new JsStorage(dcPrev)];
};

/**
 * The GRU cell's rec + rb per row, each value rounded to the dtype as the add it replaces
 * (lib/ops/rnn.ts): [batch * 3 * units].
 */
function biasedRec(rec: Parameters<Kernel>[0][number], rb: Parameters<Kernel>[0][number]): Float64Array {
  const rv = valuesOf(rec), bv = valuesOf(rb);
  const round = rec.dtype === 'float32' ? Math.fround : (v: number) => v;
  return Float64Array.from(rv, (v, i) => round(v + bv[i % bv.length]!));
}

/** gruCell [x, rec, h, rb] -> [h', acts] (lib/ops/rnn.ts) in float64, each value rounded once; acts = (z, r, hh). */
const gruCell: Kernel = ([x, rec, h, rb], _attrs, [hOut, actsOut]) => {
  const [batch, units] = h.shape as [number, number];
  const xv = valuesOf(x), rv = biasedRec(rec, rb), hv = valuesOf(h);
  const hNew = allocate(hOut.dtype, batch * units), acts = allocate(actsOut.dtype, batch * 3 * units);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < units; k++) {
      const g = b * 3 * units + k, at = b * units + k;
      const z = sigmoid(xv[g]! + rv[g]!), r = sigmoid(xv[g + units]! + rv[g + units]!);
      const hh = Math.tanh(xv[g + 2 * units]! + r * rv[g + 2 * units]!);
      hNew[at] = z * hv[at]! + (1 - z) * hh;
      [acts[g], acts[g + units], acts[g + 2 * units]] = [z, r, hh];
    }
  }
  return [new JsStorage(hNew), new JsStorage(acts)];
};

/** gruCellGrad [acts, rec, h, dh, rb] -> [dx, drec, dhPrev] (lib/ops/rnn.ts), in float64. */
const gruCellGrad: Kernel = ([acts, rec, h, dh, rb], _attrs, [dxOut, , dhOut]) => {
  const [batch, units] = h.shape as [number, number];
  const av = valuesOf(acts), rv = biasedRec(rec, rb), hv = valuesOf(h), dv = valuesOf(dh);
  const dx = allocate(dxOut.dtype, batch * 3 * units), drec = allocate(dxOut.dtype, batch * 3 * units);
  const dhPrev = allocate(dhOut.dtype, batch * units);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < units; k++) {
      const g = b * 3 * units + k, at = b * units + k;
      const [z, r, hh] = [av[g]!, av[g + units]!, av[g + 2 * units]!];
      const d = dv[at]!;
      const pz = d * (hv[at]! - hh) * z * (1 - z);
      const ph = d * (1 - z) * (1 - hh * hh);
      const pr = ph * rv[g + 2 * units]! * r * (1 - r);
      [dx[g], dx[g + units], dx[g + 2 * units]] = [pz, pr, ph];
      [drec[g], drec[g + units], drec[g + 2 * units]] = [pz, pr, ph * r];
      dhPrev[at] = d * z;
    }
  }
  return [new JsStorage(dx), new JsStorage(drec), new JsStorage(dhPrev)];
};

/** `data` as an input of another kernel of this backend (kernels read its storage, shape and dtype). */
function operand(data: TypedArray, shape: number[], dtype: DType): Tensor {
  return { storage: new JsStorage(data), shape, dtype } as unknown as Tensor;
}

/** Rows [t * batch, (t + 1) * batch) of a time-major [steps, batch, width] tensor's values. */
function stepOf(t: Tensor, step: number): TypedArray {
  const [, batch, width] = t.shape as [number, number, number];
  return valuesOf(t).subarray(step * batch * width, (step + 1) * batch * width);
}

/**
 * The sequence ops (lib/ops/rnn.ts) as their timesteps run op by op: step t's recurrent product
 * states[0] rk by the matmul kernel (rounded to the dtype, as the op's output is), then `cell`,
 * which returns the new states, h first. Returns every step's h [steps, batch, units] and the
 * last states.
 */
function runSequence(xs: Tensor, rk: Tensor, initial: Tensor[], cell: (x: Tensor, rec: Tensor, states: Tensor[], step: number) => TypedArray[]): [TypedArray, Tensor[]] {
  const [steps, batch, width] = xs.shape as [number, number, number];
  const units = initial[0]!.shape[1] as number;
  const hs = allocate(xs.dtype, steps * batch * units);
  let states = initial;
  for (let t = 0; t < steps; t++) {
    const x = operand(stepOf(xs, t), [batch, width], xs.dtype);
    const [rec] = matmulKernel([states[0]!, rk], {}, [{ shape: [batch, width], dtype: xs.dtype }]) as JsStorage[];
    states = cell(x, operand(rec!.data, [batch, width], xs.dtype), states, t).map((v) => operand(v, [batch, units], xs.dtype));
    hs.set(valuesOf(states[0]!), t * batch * units);
  }
  return [hs, states];
}

/** The gradient reaching step t's h: dhs[t] plus what step t + 1 passed back (rounded to the dtype, as the native add). */
function incomingGrad(dhs: Tensor, t: number, fromNext: TypedArray): TypedArray {
  const dhOut = stepOf(dhs, t), dh = allocate(dhs.dtype, fromNext.length);
  for (let i = 0; i < dh.length; i++) dh[i] = dhOut[i]! + fromNext[i]!;
  return dh;
}

/** g rk^T for a step's gate gradients g [batch, width]: the recurrent product's gradient w.r.t. h (the matmul kernel, transposeB). */
function timesRkTransposed(g: TypedArray, rk: Tensor, batch: number): TypedArray {
  const [units, width] = rk.shape as [number, number];
  return (matmulKernel([operand(g, [batch, width], rk.dtype), rk], { transposeB: true }, [{ shape: [batch, units], dtype: rk.dtype }]) as JsStorage[])[0]!.data;
}

/** lstmSequence [xs, rk, h0, c0] -> [hs, cT, acts, cs] (lib/ops/rnn.ts): the lstmCell kernel a step. */
const lstmSequence: Kernel = ([xs, rk, h0, c0], attrs, [, , actsOut, csOut]) => {
  const [batch, units] = h0.shape as [number, number];
  const state = { shape: [batch, units], dtype: xs.dtype };
  const acts = allocate(actsOut.dtype, sizeOf(actsOut.shape)), cs = allocate(csOut.dtype, sizeOf(csOut.shape));
  const [hs, [, c]] = runSequence(xs, rk, [h0, c0], (x, rec, [, cPrev], t) => {
    const [h, cNew, a] = lstmCell([x, rec, cPrev!], {}, [state, state, { shape: [batch, 5 * units], dtype: xs.dtype }]) as JsStorage[];
    if (attrs.saveActivations === true) {
      acts.set(a!.data, t * batch * 5 * units);
      cs.set(cNew!.data, t * batch * units);
    }
    return [h!.data, cNew!.data];
  });
  return [new JsStorage(hs), new JsStorage(valuesOf(c!).slice()), new JsStorage(acts), new JsStorage(cs)];
};

/**
 * lstmSequenceGrad [acts, cs, c0, rk, dhs, dcT] -> [dxs, dh0, dc0] (lib/ops/rnn.ts): last step
 * first, dh_t = dhs[t] + the next step's dz rk^T (the matmul kernel, transposeB), then the
 * lstmCellGrad kernel.
 */
const lstmSequenceGrad: Kernel = ([acts, cs, c0, rk, dhs, dcT], _attrs, [dxsOut]) => {
  const [steps, batch] = acts.shape as [number, number];
  const units = (acts.shape[2] as number) / 5, dtype = acts.dtype;
  const state = { shape: [batch, units], dtype };
  const dxs = allocate(dxsOut.dtype, steps * batch * 4 * units);
  let fromNext = allocate(dtype, batch * units), dc = valuesOf(dcT);
  for (let t = steps - 1; t >= 0; t--) {
    const dh = incomingGrad(dhs, t, fromNext);
    const cPrev = t > 0 ? operand(stepOf(cs, t - 1), [batch, units], dtype) : c0;
    const [dz, dcPrev] = lstmCellGrad([operand(stepOf(acts, t), [batch, 5 * units], dtype), cPrev, operand(dh, [batch, units], dtype), operand(dc, [batch, units], dtype)], {}, [
      { shape: [batch, 4 * units], dtype },
      state,
    ]) as JsStorage[];
    dxs.set(dz!.data, t * batch * 4 * units);
    dc = dcPrev!.data;
    fromNext = timesRkTransposed(dz!.data, rk, batch);
  }
  return [new JsStorage(dxs), new JsStorage(fromNext), new JsStorage(dc.slice())];
};

/** gruSequence [xs, rk, h0, rb] -> [hs, acts, recs] (lib/ops/rnn.ts): the gruCell kernel a step. */
const gruSequence: Kernel = ([xs, rk, h0, rb], attrs, [, actsOut, recsOut]) => {
  const [batch, units] = h0.shape as [number, number];
  const acts = allocate(actsOut.dtype, sizeOf(actsOut.shape)), recs = allocate(recsOut.dtype, sizeOf(recsOut.shape));
  const [hs] = runSequence(xs, rk, [h0], (x, rec, [h], t) => {
    const [hNew, a] = gruCell([x, rec, h!, rb], {}, [{ shape: [batch, units], dtype: xs.dtype }, { shape: [batch, 3 * units], dtype: xs.dtype }]) as JsStorage[];
    if (attrs.saveActivations === true) {
      acts.set(a!.data, t * batch * 3 * units);
      recs.set(valuesOf(rec), t * batch * 3 * units);
    }
    return [hNew!.data];
  });
  return [new JsStorage(hs), new JsStorage(acts), new JsStorage(recs)];
};

/**
 * gruSequenceGrad [acts, recs, hs, h0, rk, rb, dhs] -> [dxs, drecs, dh0] (lib/ops/rnn.ts): last
 * step first, dh_t = dhs[t] + what step t + 1 passed back, the gruCellGrad kernel, then h_{t-1}
 * receives its dh plus drec rk^T (the matmul kernel, transposeB).
 */
const gruSequenceGrad: Kernel = ([acts, recs, hs, h0, rk, rb, dhs], _attrs, [gatesOut]) => {
  const [steps, batch, width] = acts.shape as [number, number, number];
  const units = width / 3, dtype = acts.dtype;
  const state = { shape: [batch, units], dtype }, gates = { shape: [batch, width], dtype };
  const dxs = allocate(gatesOut.dtype, steps * batch * width), drecs = allocate(gatesOut.dtype, steps * batch * width);
  let fromNext = allocate(dtype, batch * units);
  for (let t = steps - 1; t >= 0; t--) {
    const dh = incomingGrad(dhs, t, fromNext);
    const hPrev = t > 0 ? operand(stepOf(hs, t - 1), [batch, units], dtype) : h0;
    const [dx, drec, dhCell] = gruCellGrad([operand(stepOf(acts, t), [batch, width], dtype), operand(stepOf(recs, t), [batch, width], dtype), hPrev, operand(dh, [batch, units], dtype), rb], {}, [gates, gates, state]) as JsStorage[];
    dxs.set(dx!.data, t * batch * width);
    drecs.set(drec!.data, t * batch * width);
    const product = timesRkTransposed(drec!.data, rk, batch);
    fromNext = allocate(dtype, batch * units);
    for (let i = 0; i < fromNext.length; i++) fromNext[i] = dhCell!.data[i]! + product[i]!;
  }
  return [new JsStorage(dxs), new JsStorage(drecs), new JsStorage(fromNext)];
};

export const nnKernels: Record<string, Kernel> = {
  conv,
  convBackpropInput,
  convBackpropFilter,
  maxPool,
  maxPoolGrad,
  avgPool,
  avgPoolGrad,
  softmax: rowKernel(false),
  logSoftmax: rowKernel(true),
  softmaxGrad: softmaxGradKernel(false),
  logSoftmaxGrad: softmaxGradKernel(true),
  sparseSoftmaxCrossEntropy,
  sparseSoftmaxCrossEntropyGrad,
  layerNorm,
  layerNormGrad,
  lstmCell,
  lstmCellGrad,
  gruCell,
  gruCellGrad,
  lstmSequence,
  lstmSequenceGrad,
  gruSequence,
  gruSequenceGrad,
};
