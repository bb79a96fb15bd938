import { afterEach, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import { pyFormat, pyRepr } from '../../lib/callbacks/progbar.js';
import { captureOutput, tinyData, tinyModel } from './helpers.js';

const { Progbar, ProgbarLogger } = keras.callbacks;

const B = (s: string) => `\x1b[1m${s}\x1b[0m`;
const green = (n: number) => `\x1b[32m${'━'.repeat(n)}\x1b[0m`;
const grey = (n: number) => `\x1b[37m${'━'.repeat(n)}\x1b[0m`;

/** A clock the test advances by hand (seconds). */
function fakeClock(): { clock: () => number; set: (t: number) => void } {
  let t = 0;
  return { clock: () => t, set: (v) => (t = v) };
}

describe('Python number formats (values checked against CPython)', () => {
  it('format(x, ".4f" / ".4e" / ".0f"): ties to even, nan/inf, 2-digit exponents, no exponent in f', () => {
    const table: [number, string, string, string][] = [
      [0.03125, '0.0312', '3.1250e-02', '0'],
      [0.09375, '0.0938', '9.3750e-02', '0'],
      [-0.03125, '-0.0312', '-3.1250e-02', '-0'],
      [2.5, '2.5000', '2.5000e+00', '2'],
      [3.5, '3.5000', '3.5000e+00', '4'],
      [1e22, '10000000000000000000000.0000', '1.0000e+22', '10000000000000000000000'],
      [12345.67891, '12345.6789', '1.2346e+04', '12346'],
      [0.0005, '0.0005', '5.0000e-04', '0'],
      [-0.5, '-0.5000', '-5.0000e-01', '-0'],
      [NaN, 'nan', 'nan', 'nan'],
      [-Infinity, '-inf', '-inf', '-inf'],
      [0, '0.0000', '0.0000e+00', '0'],
    ];
    for (const [x, f4, e4, f0] of table) expect([pyFormat(x, 'f', 4), pyFormat(x, 'e', 4), pyFormat(x, 'f', 0)], String(x)).toEqual([f4, e4, f0]);
  });

  it('repr(float): shortest digits, exponent below 1e-4 and from 1e16', () => {
    const table: [number, string][] = [
      [0.1, '0.1'], [1, '1.0'], [1e-5, '1e-05'], [0.0001, '0.0001'], [1e16, '1e+16'], [123456789, '123456789.0'],
      [0.6931471824645996, '0.6931471824645996'], [-2.5e-7, '-2.5e-07'], [5e-324, '5e-324'], [Infinity, 'inf'],
    ];
    for (const [x, r] of table) expect(pyRepr(x), String(x)).toBe(r);
  });
});

describe('Progbar', () => {
  it('verbose 1 on a TTY: \\r redraws with ETA and time per step, averaged values, throttling, padding and a final newline', () => {
    const chunks: string[] = [];
    const c = fakeClock();
    const bar = new Progbar(4, { verbose: 1, dynamicDisplay: true, write: (s) => chunks.push(s), clock: c.clock });
    c.set(0.125);
    bar.update(1, { loss: 1 });
    // 1/4 = 5 of 20 cells; 0.125 s/step; ETA 3 * 0.125 s truncates to 0s.
    expect(chunks[0]).toBe(`\r${B('1/4')} ${green(5)}${grey(15)} ${B('0s')} 125ms/step - loss: 1.0000`);
    c.set(0.375);
    bar.update(2, [['loss', 3]]);
    // The first step is left out of the per-step time: (0.375 - 0.125) / 1. Values average over updates.
    expect(chunks[1]).toBe(`\r${B('2/4')} ${green(10)}${grey(10)} ${B('0s')} 250ms/step - loss: 2.0000`);
    c.set(0.4);
    bar.update(3, { loss: 5 });
    expect(chunks).toHaveLength(2); // within the 0.05 s interval: not redrawn
    c.set(3.125);
    bar.update(4, { loss: 0.5 });
    // Finalized (current >= target): elapsed seconds, (3.125 - 0.125) / 3 = 1 s/step, values as given,
    // 3 spaces erase the rest of the longer previous line (53 visible columns), then a newline.
    expect(chunks[2]).toBe(`\r${B('4/4')} ${green(20)}${grey(0)} ${B('3s')} 1s/step - loss: 0.5000   \n`);
    expect(bar.seen).toBe(4);
  });

  it('formats ETA as s, m:ss and h:mm:ss and pads the count to the target width', () => {
    const chunks: string[] = [];
    const c = fakeClock();
    c.set(1);
    new Progbar(100, { write: (s) => chunks.push(s), clock: () => 0, dynamicDisplay: true }).update(1);
    expect(chunks[0]).toContain(`${B('  1/100')} `);
    const b2 = new Progbar(100, { write: (s) => chunks.push(s), clock: c.clock, dynamicDisplay: true });
    c.set(2);
    b2.update(1);
    expect(chunks[1]).toContain(` ${B('1:39')} 1s/step`);
    c.set(0);
    const b3 = new Progbar(10000, { write: (s) => chunks.push(s), clock: c.clock, dynamicDisplay: true });
    c.set(1);
    b3.update(1);
    expect(chunks[2]).toContain(` ${B('2:46:39')} 1s/step`);
  });

  it('verbose 1 with an unknown target shows count/Unknown and elapsed time; without dynamic display each draw is a new line', () => {
    const chunks: string[] = [];
    const c = fakeClock();
    const bar = new Progbar(null, { write: (s) => chunks.push(s), clock: c.clock, dynamicDisplay: false });
    c.set(0.002);
    bar.update(1, { loss: 0.0005 });
    expect(chunks[0]).toBe(`\n      1/Unknown ${B('0s')} 2ms/step - loss: 5.0000e-04`);
  });

  it('verbose 2 prints one line only when finalized, with Keras number formats (ties to even, exponent when <= 1e-3)', () => {
    const chunks: string[] = [];
    const c = fakeClock();
    const bar = new Progbar(12, { verbose: 2, write: (s) => chunks.push(s), clock: c.clock });
    c.set(0.5);
    bar.update(5, { loss: 1 });
    expect(chunks).toEqual([]);
    c.set(2.5);
    // 0.03125 is exact: Python rounds the tie to even (0.0312); negatives take the exponent form.
    bar.update(12, { loss: 0.03125, acc: -0.5, big: 12345.67891 }, true);
    expect(chunks).toEqual(['12/12 - 2s - 208ms/step - loss: 0.0312 - acc: -5.0000e-01 - big: 12345.6789\n']);
  });

  it('takes Keras positional arguments (target, width, verbose, interval, statefulMetrics, unitName) and add()', () => {
    const chunks: string[] = [];
    const c = fakeClock();
    const bar = new Progbar(2, { width: 4, statefulMetrics: ['acc'], unitName: 'sample', write: (s) => chunks.push(s), clock: c.clock, dynamicDisplay: true, interval: 0 });
    c.set(0.001);
    bar.add(1, { acc: 0.5, loss: 2 });
    c.set(0.002);
    bar.add(1, { acc: 0.25 });
    // acc is stateful (shown as given), loss keeps its average.
    expect(chunks[1]).toBe(`\r${B('2/2')} ${green(4)}${grey(0)} ${B('0s')} 1ms/sample - acc: 0.2500 - loss: 2.0000\n`);
    const positional = new Progbar(3, 10, 2, 0.1, ['x'], 'item');
    expect([positional.width, positional.verbose, positional.interval, positional.unitName]).toEqual([10, 2, 0.1, 'item']);
    expect(() => new Progbar(-1)).toThrow(/Progbar: target must be a non-negative integer or null, received -1/);
  });
});

describe('ProgbarLogger', () => {
  let cap: ReturnType<typeof captureOutput> | null = null;
  afterEach(() => {
    cap?.restore();
    cap = null;
  });

  it('fit with verbose 2 (not a TTY) prints "Epoch i/n" and one line per epoch with the epoch logs', async () => {
    const { x, y } = tinyData();
    const model = tinyModel(0.1, ['mae']);
    cap = captureOutput();
    const history = await model.fit(x, y, { epochs: 2, batchSize: 1, verbose: 2, shuffle: false });
    const out = cap.out();
    cap.restore();
    const lines = out.split('\n');
    expect(lines[0]).toBe('Epoch 1/2');
    expect(lines[2]).toBe('Epoch 2/2');
    expect(lines[4]).toBe('');
    for (const [i, line] of [lines[1], lines[3]].entries()) {
      expect(line).toMatch(/^4\/4 - \d+s - \d+(s|ms|us)\/step - loss: \d+\.\d{4} - mae: \d+\.\d{4}$/);
      expect(line).toContain(`loss: ${history.history.loss[i].toFixed(4)}`);
      expect(line).toContain(`mae: ${history.history.mae[i].toFixed(4)}`);
    }
  });

  it('a single epoch prints no "Epoch 1/1" header; evaluate and predict print their own line', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    const chunks: string[] = [];
    const logger = () => new ProgbarLogger(2, (s) => chunks.push(s), false);
    await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0, callbacks: [logger()] });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatch(/^2\/2 - \d+s - \d+(s|ms|us)\/step - loss: \d+\.\d{4}\n$/);
    chunks.length = 0;
    const loss = (await model.evaluate(x, y, { batchSize: 4, verbose: 0, callbacks: [logger()] })) as number;
    expect(chunks).toEqual([expect.stringMatching(new RegExp(`^1/1 - \\d+s - \\d+(s|ms|us)/step - loss: ${loss.toFixed(4).replace('.', '\\.')}\\n$`))]);
    chunks.length = 0;
    await model.predict(x, { batchSize: 3, verbose: 0, callbacks: [logger()] });
    expect(chunks).toEqual([expect.stringMatching(/^2\/2 - \d+s - \d+(s|ms|us)\/step\n$/)]);
  });

  it('validation inside fit prints nothing of its own; val_ metrics join the epoch line', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    const chunks: string[] = [];
    const h = await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, validationData: [x, y], callbacks: [new ProgbarLogger(2, (s) => chunks.push(s), false)] });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatch(new RegExp(`^1/1 - .* - loss: \\d\\.\\d{4} - val_loss: ${h.history.val_loss[0].toFixed(4).replace('.', '\\.')}\\n$`));
  });

  it('verbose 1 on a (fake) TTY redraws a bar per step with \\r and ends each epoch with a newline', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    const chunks: string[] = [];
    const h = await model.fit(x, y, { epochs: 2, batchSize: 1, verbose: 0, shuffle: false, callbacks: [new ProgbarLogger(1, (s) => chunks.push(s), true)] });
    const e2 = chunks.indexOf('Epoch 2/2\n');
    expect(chunks[0]).toBe('Epoch 1/2\n');
    expect(e2).toBeGreaterThan(2);
    for (const epoch of [chunks.slice(1, e2), chunks.slice(e2 + 1)]) {
      // The first step always draws (later ones may be throttled to one per 50 ms).
      expect(epoch[0]).toMatch(/^\r\x1b\[1m1\/4\x1b\[0m \x1b\[32m━━━━━\x1b\[0m\x1b\[37m━{15}\x1b\[0m \x1b\[1m\d+s\x1b\[0m \d+(s|ms|us)\/step - loss: \d+\.\d{4}/);
      for (const c of epoch) expect(c.startsWith('\r')).toBe(true);
      for (const c of epoch.slice(0, -1)) expect(c.endsWith('\n')).toBe(false);
      expect(epoch[epoch.length - 1]).toMatch(/^\r\x1b\[1m4\/4\x1b\[0m \x1b\[32m━{20}\x1b\[0m\x1b\[37m\x1b\[0m \x1b\[1m\d+s\x1b\[0m \d+(s|ms|us)\/step - loss: \d+\.\d{4} *\n$/);
    }
    expect(chunks[chunks.length - 1]).toContain(`loss: ${h.history.loss[1].toFixed(4)}`);
  });

  it('verbose 1 off a TTY prints the one-line epoch summary; an unknown-length dataset learns its length', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    const chunks: string[] = [];
    function* data(): Generator<[number[][], number[][]]> {
      yield [x.slice(0, 2), y.slice(0, 2)];
      yield [x.slice(2), y.slice(2)];
    }
    const dataset = { [Symbol.iterator]: data };
    await model.fit(dataset, undefined, { epochs: 2, verbose: 0, callbacks: [new ProgbarLogger(1, (s) => chunks.push(s), false)] });
    expect(chunks).toHaveLength(4);
    expect(chunks[1]).toMatch(/^2\/2 - \d+s - \d+(s|ms|us)\/step - loss: \d+\.\d{4}\n$/);
    expect(chunks[3]).toMatch(/^2\/2 - /);
    chunks.length = 0;
    await model.predict({ [Symbol.iterator]: data }, { verbose: 0, callbacks: [new ProgbarLogger(1, (s) => chunks.push(s), true)] });
    expect(chunks[0]).toMatch(/^\r {6}1\/Unknown \x1b\[1m\d+s\x1b\[0m/);
    expect(chunks[chunks.length - 1]).toMatch(/^\r\x1b\[1m2\/2\x1b\[0m .*\n$/);
  });

  it('takes its verbosity from fit when not given one', async () => {
    const { x, y } = tinyData();
    const model = tinyModel();
    cap = captureOutput();
    await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, callbacks: [new ProgbarLogger()] });
    expect(cap.out()).toBe('');
  });
});
