import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { tinyData, tinyModel } from './helpers.js';

const { CSVLogger } = keras.callbacks;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keras-csv-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the hooks over a list of epoch logs. */
function drive(cb: keras.callbacks.CSVLogger, epochs: keras.callbacks.Logs[], start = 0): void {
  cb.onTrainBegin({});
  epochs.forEach((logs, i) => cb.onEpochEnd(start + i, logs));
  cb.onTrainEnd({});
}

describe('CSVLogger', () => {
  it('writes a header (epoch, then sorted keys) and one row per epoch, numbers as Python writes them', () => {
    const file = path.join(dir, 'log.csv');
    drive(new CSVLogger(file), [
      { val_loss: 0.5, loss: 1, accuracy: 1e-5, val_accuracy: 0.0001 },
      { val_loss: NaN, loss: 0.1, accuracy: 1.2345678901234567e20, val_accuracy: -Infinity },
    ]);
    expect(fs.readFileSync(file, 'utf8')).toBe('epoch,accuracy,loss,val_accuracy,val_loss\r\n0,1e-05,1.0,0.0001,0.5\r\n1,1.2345678901234567e+20,0.1,-inf,nan\r\n');
    expect(fs.readdirSync(dir)).toEqual(['log.csv']);
  });

  it('without val_ keys in the first epoch adds their columns (NA until present); missing keys are NA', () => {
    const file = path.join(dir, 'log.csv');
    drive(new CSVLogger(file), [{ loss: 0.25 }, { loss: 0.125, val_loss: 3 }, {}]);
    expect(fs.readFileSync(file, 'utf8')).toBe('epoch,loss,val_loss\r\n0,0.25,NA\r\n1,0.125,3.0\r\n2,NA,NA\r\n');
  });

  it('separator, quoting of fields that contain it, and positional or object options', () => {
    const file = path.join(dir, 'log.csv');
    drive(new CSVLogger(file, ';'), [{ 'a;b': 1.5, c: 2 }]);
    expect(fs.readFileSync(file, 'utf8')).toBe('epoch;"a;b";c;val_a;b;val_c\r\n0;1.5;2.0;NA;NA\r\n'.replace('val_a;b', '"val_a;b"'));
    const o = new CSVLogger(file, { separator: '\t', append: true });
    expect([o.separator, o.append]).toEqual(['\t', true]);
    expect(() => new CSVLogger(file, '::')).toThrow(/CSVLogger: separator must be a 1-character string, received "::"/);
    expect(() => new CSVLogger('')).toThrow(/CSVLogger: filename must be a non-empty path string/);
  });

  it('append: keeps existing rows and writes no second header; an empty or missing file gets one', () => {
    const file = path.join(dir, 'log.csv');
    drive(new CSVLogger(file, ',', true), [{ loss: 2 }]);
    drive(new CSVLogger(file, ',', true), [{ loss: 1 }], 1);
    expect(fs.readFileSync(file, 'utf8')).toBe('epoch,loss,val_loss\r\n0,2.0,NA\r\n1,1.0,NA\r\n');
    const empty = path.join(dir, 'empty.csv');
    fs.writeFileSync(empty, '');
    drive(new CSVLogger(empty, { append: true }), [{ loss: 1 }]);
    expect(fs.readFileSync(empty, 'utf8')).toBe('epoch,loss,val_loss\r\n0,1.0,NA\r\n');
  });

  it('append after a torn last line starts a new line instead of merging rows', () => {
    const file = path.join(dir, 'log.csv');
    fs.writeFileSync(file, 'epoch,loss\r\n0,1.0\r\n1,0.9');
    drive(new CSVLogger(file, { append: true }), [{ loss: 0.5 }], 2);
    expect(fs.readFileSync(file, 'utf8')).toBe('epoch,loss\r\n0,1.0\r\n1,0.9\r\n2,0.5,NA\r\n');
  });

  it('without append, an existing file stays whole until the first row is ready, then is replaced; each epoch is on disk at once', () => {
    const file = path.join(dir, 'log.csv');
    fs.writeFileSync(file, 'old contents\n');
    const cb = new CSVLogger(file);
    cb.onTrainBegin({});
    expect(fs.readFileSync(file, 'utf8')).toBe('old contents\n');
    cb.onEpochEnd(0, { loss: 1 });
    expect(fs.readFileSync(file, 'utf8')).toBe('epoch,loss,val_loss\r\n0,1.0,NA\r\n');
    cb.onEpochEnd(1, { loss: 0.5 });
    expect(fs.readFileSync(file, 'utf8')).toBe('epoch,loss,val_loss\r\n0,1.0,NA\r\n1,0.5,NA\r\n');
    cb.onTrainEnd({});
    // A second fit with the same instance starts the file over.
    drive(cb, [{ loss: 3 }]);
    expect(fs.readFileSync(file, 'utf8')).toBe('epoch,loss,val_loss\r\n0,3.0,NA\r\n');
    expect(fs.readdirSync(dir)).toEqual(['log.csv']);
  });

  it('a failed write throws, leaves no temporary file behind and leaves the target untouched', () => {
    // The target is a non-empty directory: the final rename fails.
    const target = path.join(dir, 'taken');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep.txt'), 'x');
    const cb = new CSVLogger(target);
    cb.onTrainBegin({});
    expect(() => cb.onEpochEnd(0, { loss: 1 })).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['taken']);
    expect(fs.readFileSync(path.join(target, 'keep.txt'), 'utf8')).toBe('x');
  });

  it('in fit with validation data: one row per epoch equal to the History', async () => {
    const { x, y } = tinyData();
    const model = tinyModel(0.1, ['mae']);
    const file = path.join(dir, 'fit.csv');
    const h = await model.fit(x, y, { epochs: 3, batchSize: 2, verbose: 0, validationData: [x, y], callbacks: [new CSVLogger(file)] });
    const lines = fs.readFileSync(file, 'utf8').split('\r\n');
    expect(lines[0]).toBe('epoch,loss,mae,val_loss,val_mae');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('');
    for (let e = 0; e < 3; e++) {
      const cells = lines[e + 1].split(',');
      expect(cells[0]).toBe(String(e));
      expect(cells.slice(1).map(Number)).toEqual([h.history.loss[e], h.history.mae[e], h.history.val_loss[e], h.history.val_mae[e]]);
    }
  });
});
