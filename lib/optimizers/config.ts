/**
 * Config helpers shared by optimizers and schedules: Keras files spell keys in
 * snake_case (`beta_1`, `t_mul`), our constructors take camelCase (`beta1`, `tMul`).
 */
import { ValueError } from '../errors.js';

/** `learning_rate` -> `learningRate`, `beta_1` -> `beta1`; camelCase keys pass through. */
export function camelKey(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A copy of `config` with snake_case keys turned into camelCase. */
export function camelizeKeys(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[camelKey(k)] = v;
  return out;
}

/** Raises on option names the constructor does not know (as Keras' "Argument(s) not recognized"). */
export function checkKnownKeys(owner: string, options: object, known: readonly string[]): void {
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length) {
    throw new ValueError(`${owner}: argument(s) not recognized: ${unknown.join(', ')}; accepted: ${known.join(', ')}`);
  }
}

/**
 * The shortest decimal that rounds to the same float32 as `x`, so a float32
 * learning rate of 0.001 reads back as 0.001 rather than 0.0010000000474974513.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const y = Number(f.toPrecision(p));
    if (Math.fround(y) === f) return y;
  }
  return f;
}
