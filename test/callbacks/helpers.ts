/** Tiny models and data shared by the callback tests. */
import { vi } from 'vitest';
import * as keras from '../../lib/index.js';

const { layers } = keras;

/** x: 4 samples of 2 features; y = x0 + 2 x1 (+0 bias): a linear target a Dense(1) can fit. */
export function tinyData(): { x: number[][]; y: number[][] } {
  return { x: [[0, 1], [1, 0], [1, 1], [0, 0]], y: [[2], [1], [3], [0]] };
}

/** Dense(1) on 2 inputs, SGD(lr), MSE; seeded so runs are repeatable. */
export function tinyModel(lr = 0.1, metrics: string[] = []): keras.Sequential {
  keras.utils.setRandomSeed(7);
  const model = new keras.Sequential([new layers.Dense(1, { inputShape: [2] })]);
  model.compile({ optimizer: new keras.optimizers.SGD(lr), loss: 'mse', metrics });
  return model;
}

/** Host copies of all weight values. */
export function weightValues(model: keras.Sequential): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/** Captures process.stdout.write (callbacks print with it) and process warnings. */
export function captureOutput(): { out: () => string; warnings: () => string[]; restore: () => void } {
  let text = '';
  const warnings: string[] = [];
  const w = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    text += String(s);
    return true;
  });
  const e = vi.spyOn(process, 'emitWarning').mockImplementation((msg: string | Error) => {
    warnings.push(String(msg));
  });
  return {
    out: () => text,
    warnings: () => warnings,
    restore: () => {
      w.mockRestore();
      e.mockRestore();
    },
  };
}

/** A stand-in model for driving hooks directly: only what callbacks touch. */
export function fakeModel(lr = 0.1): { stopTraining: boolean; optimizer: { learningRate: number }; metrics: never[] } {
  return { stopTraining: false, optimizer: { learningRate: lr }, metrics: [] };
}
