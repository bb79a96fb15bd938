/**
 * Primitive calls the parity cases do not make: each case with an input's dim changed
 * (to 0, 1, 2, 3 or 5), its rank changed, its dtype changed, or an input dropped or
 * repeated, drawn from a fixed seed. On js and on cpu every such call either computes the
 * same outputs and gradients, or throws on both: errors of the same class, KerasErrors whose
 * message starts with the op's name. Nothing is left alive afterwards, in js or in native memory.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as keras from '../../lib/index.js';
import type { DType } from '../../lib/index.js';
import { getBackend, setBackend } from '../../lib/engine.js';
import { allOps } from '../../lib/ops/registry.js';
import type { CpuBackend } from '../../lib/backends/cpu/index.js';
import { CASES, makeValues, type InputCase, type OpCase } from './cases.js';
import { expectParity, gradInputs, nativeUnavailableReason, runOn } from './harness.js';
import { GRAD, forwardTolerance } from './tolerances.js';

const DTYPES: DType[] = ['float32', 'float64', 'int32', 'bool'];
const CALLS_PER_SEED = Number(process.env.MUTATED_CALLS ?? 1500);

/** A linear congruential stream in [0, 1): the same cases on every run. */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One to two mutations of a parity case of a random op. */
function mutatedCase(rand: () => number, ops: string[]): { op: string; c: OpCase } {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const op = pick(ops);
  const base = pick(CASES[op]!);
  const inputs: InputCase[] = base.inputs.map((i) => ({ ...i, shape: [...i.shape] }));
  const mutations = 1 + Math.floor(rand() * 2);
  for (let m = 0; m < mutations; m++) {
    const kind = rand();
    if (!inputs.length || kind < 0.6) {
      if (!inputs.length) continue;
      const t = pick(inputs);
      if (t.shape.length && rand() < 0.7) t.shape[Math.floor(rand() * t.shape.length)] = pick([0, 1, 2, 3, 5]);
      else if (rand() < 0.5 || !t.shape.length) t.shape.push(pick([1, 2, 3]));
      else t.shape.pop();
    } else if (kind < 0.85) pick(inputs).dtype = pick(DTYPES);
    else if (rand() < 0.5) inputs.splice(Math.floor(rand() * inputs.length), 1);
    else inputs.push({ ...pick(inputs) });
  }
  return { op, c: { ...base, inputs } };
}

/** Values for a mutated input: the case's domain where it still makes sense, cycled to the new size. */
function valuesFor(input: InputCase, seed: number): number[] {
  const n = input.shape.reduce((a, b) => a * b, 1);
  let v: number[] = [];
  try {
    v = makeValues(input, seed).filter((x) => x !== undefined);
  } catch {
    // a domain that needs the old shape (a square matrix): plain values below
  }
  if (!v.length) v = makeValues({ shape: [Math.max(n, 1)], dtype: input.dtype }, seed);
  return Array.from({ length: n }, (_, k) => v[k % v.length]!);
}

const describeCall = (op: string, c: OpCase) =>
  `${op}(${c.inputs.map((i) => `${i.dtype}[${i.shape.join(',')}]`).join(', ')}${c.attrs ? `, ${JSON.stringify(c.attrs)}` : ''})`;

/** What is wrong with one call, or how it went when both backends agree. */
function checkCall(op: string, c: OpCase, seed: number): { failure: string } | 'computed' | 'rejected' {
  const values = c.inputs.map((i, k) => valuesFor(i, seed * 10 + k));
  const what = describeCall(op, c);
  const forward = { js: runOn('js', op, c, values, []), cpu: runOn('cpu', op, c, values, []) };
  if ('error' in forward.js || 'error' in forward.cpu) {
    for (const [name, r] of Object.entries(forward)) if (!('error' in r)) r.outputs.forEach((t) => t.dispose());
    const errors = Object.entries(forward).map(([name, r]) => ('error' in r ? { name, error: r.error } : { name, error: null }));
    for (const { name, error } of errors) {
      if (!error) return { failure: `${what}: ${name} computed, the other backend threw ${errors.find((e) => e.error)!.error!.message}` };
      if (!(error instanceof keras.KerasError)) return { failure: `${what}: ${name} threw ${error.name} (not a KerasError): ${error.message}` };
      if (!error.message.startsWith(`${op}:`)) return { failure: `${what}: ${name}'s error does not start with the op's name: ${error.message}` };
    }
    if (errors[0]!.error!.name !== errors[1]!.error!.name) return { failure: `${what}: js threw ${errors[0]!.error!.name}, cpu ${errors[1]!.error!.name}` };
    return 'rejected';
  }
  for (const r of [forward.js, forward.cpu]) r.outputs.forEach((t) => t.dispose());
  let wrt: number[] = [];
  try {
    wrt = gradInputs(op, c);
  } catch {
    // the forward ran, so infer does not throw here; a case without gradients is fine either way
  }
  const ref = runOn('js', op, c, values, wrt);
  const got = runOn('cpu', op, c, values, wrt);
  try {
    if ('error' in ref || 'error' in got) {
      const e = 'error' in ref ? ref.error : (got as { error: Error }).error;
      return { failure: `${what}: a gradient threw on ${'error' in ref ? 'js' : 'cpu'}: ${e.name}: ${e.message}` };
    }
    const scale = Math.min(1, ...c.inputs.map((i) => i.scale ?? 1));
    got.outputs.forEach((t, k) => expectParity(t, ref.outputs[k]!, forwardTolerance(op, ref.outputs[k]!.dtype), scale, `${what} output ${k}`));
    got.grads.forEach((t, k) => expectParity(t, ref.grads[k]!, GRAD[ref.grads[k]!.dtype], scale, `${what} gradient wrt input ${wrt[k]}`));
    return 'computed';
  } catch (error) {
    return { failure: (error as Error).message };
  } finally {
    for (const r of [ref, got]) if (!('error' in r)) for (const t of [...r.outputs, ...r.grads]) t.dispose();
  }
}

const reason = nativeUnavailableReason();

describe.skipIf(reason !== null)(`mutated primitive calls, cpu vs js${reason ? ` (skipped: ${reason})` : ''}`, () => {
  afterAll(() => setBackend('js'));
  const ops = allOps().map((o) => o.name).filter((op) => CASES[op]?.length);

  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: ${CALLS_PER_SEED} calls agree or fail alike, naming the op`, () => {
      const cpu = getBackend('cpu') as CpuBackend;
      const live = (b: string) => keras.memory().backends[b]?.numTensors ?? 0;
      const before = { js: live('js'), cpu: live('cpu'), bytes: cpu.memoryBytes() };
      const rand = stream(seed);
      const failures: string[] = [];
      let computed = 0;
      for (let i = 0; i < CALLS_PER_SEED; i++) {
        const { op, c } = mutatedCase(rand, ops);
        const outcome = checkCall(op, c, seed * 100000 + i);
        if (typeof outcome === 'object') failures.push(outcome.failure);
        else if (outcome === 'computed') computed++;
      }
      expect(failures.length, `${failures.length} of ${CALLS_PER_SEED} calls failed:\n${failures.slice(0, 10).join('\n')}`).toBe(0);
      // About half the mutated calls stay valid: the comparison of values is half of this test.
      expect(computed, 'calls that computed on both backends').toBeGreaterThan(CALLS_PER_SEED / 3);
      expect({ js: live('js'), cpu: live('cpu'), bytes: cpu.memoryBytes() }, 'live tensors and native bytes after the calls').toEqual(before);
    });
  }
});
