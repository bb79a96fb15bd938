/**
 * Fused batch normalization kernels of the js backend (lib/ops/nn.ts defines the ops), the
 * reference for the native ones; layerNorm lives in nn.ts. x is seen as [outer, C, inner]
 * around the channel axis. Statistics are two-pass (mean, then the mean of squared
 * deviations) in float64; each output is rounded once.
 *
 * batchNorm: y = (x - mean) * inv * gamma + beta per channel, inv = 1 / sqrt(var + eps).
 * batchNormGrad, with xhat = (x - mean) * inv and count values per channel:
 * dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma * inv * (dy - dbeta / count - xhat * dgamma / count).
 */
import { allocate } from '../../dtype.js';
import { sizeOf } from '../../shape.js';
import type { Kernel } from '../backend.js';
import { JsStorage, valuesOf } from './storage.js';

interface Channels {
  outer: number;
  c: number;
  inner: number;
}

function channelsOf(shape: number[], axis: number): Channels {
  return { outer: sizeOf(shape.slice(0, axis)), c: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

/** Calls fn with the flat index of every element of channel `c`. */
function forEachInChannel({ outer, c: channels, inner }: Channels, c: number, fn: (index: number) => void): void {
  for (let o = 0; o < outer; o++) {
    const base = (o * channels + c) * inner;
    for (let i = 0; i < inner; i++) fn(base + i);
  }
}

const batchNorm: Kernel = ([x, gamma, beta], attrs, [yOut, statOut]) => {
  const g = channelsOf(x.shape, attrs.axis as number);
  const eps = attrs.epsilon as number;
  const [xv, gv, bv] = [x, gamma, beta].map(valuesOf);
  const y = allocate(yOut.dtype, xv.length);
  const meanOut = allocate(statOut.dtype, g.c);
  const varOut = allocate(statOut.dtype, g.c);
  const count = g.outer * g.inner;
  for (let c = 0; c < g.c; c++) {
    let sum = 0;
    forEachInChannel(g, c, (k) => (sum += xv[k]));
    const mean = sum / count;
    let sq = 0;
    forEachInChannel(g, c, (k) => (sq += (xv[k] - mean) * (xv[k] - mean)));
    const variance = sq / count;
    const inv = 1 / Math.sqrt(variance + eps);
    forEachInChannel(g, c, (k) => (y[k] = (xv[k] - mean) * inv * gv[c] + bv[c]));
    meanOut[c] = mean;
    varOut[c] = variance;
  }
  return [new JsStorage(y), new JsStorage(meanOut), new JsStorage(varOut)];
};

const batchNormGrad: Kernel = ([dy, x, gamma, mean, variance], attrs, [dxOut, paramOut]) => {
  const g = channelsOf(x.shape, attrs.axis as number);
  const eps = attrs.epsilon as number;
  const [dyv, xv, gv, mv, vv] = [dy, x, gamma, mean, variance].map(valuesOf);
  const dx = allocate(dxOut.dtype, xv.length);
  const dgamma = allocate(paramOut.dtype, g.c);
  const dbeta = allocate(paramOut.dtype, g.c);
  const count = g.outer * g.inner;
  for (let c = 0; c < g.c; c++) {
    const m = mv[c];
    const inv = 1 / Math.sqrt(vv[c] + eps);
    let sumDy = 0;
    let sumDyXhat = 0;
    forEachInChannel(g, c, (k) => {
      sumDy += dyv[k];
      sumDyXhat += dyv[k] * ((xv[k] - m) * inv);
    });
    const scale = gv[c] * inv;
    forEachInChannel(g, c, (k) => (dx[k] = scale * (dyv[k] - sumDy / count - (xv[k] - m) * inv * (sumDyXhat / count))));
    dgamma[c] = sumDyXhat;
    dbeta[c] = sumDy;
  }
  return [new JsStorage(dx), new JsStorage(dgamma), new JsStorage(dbeta)];
};

export const normKernels: Record<string, Kernel> = { batchNorm, batchNormGrad };
