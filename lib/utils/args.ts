/**
 * Keras' optional arguments in TypeScript: given positionally in Keras order, or as one trailing
 * options object with camelCase names (`ops.split(x, 2, { axis: 1 })`), or both.
 */
import { ValueError } from '../errors.js';

/** True for a plain `{...}` object: an options object or a config, not a tensor, array, TypedArray or class instance. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * The optional arguments `values` of `who` resolved over `defaults`, whose key order is the positional
 * order. `undefined` means "not given". An options object must come last; unknown option names and
 * too many positional values are errors naming `who` and the accepted names.
 */
export function optionalArgs<T extends Record<string, unknown>>(who: string, defaults: T, values: readonly unknown[]): T {
  const names = Object.keys(defaults);
  const out: Record<string, unknown> = { ...defaults };
  let positional = values;
  while (positional.length && positional[positional.length - 1] === undefined) positional = positional.slice(0, -1);
  let options: Record<string, unknown> | null = null;
  if (positional.length && isPlainObject(positional[positional.length - 1])) {
    options = positional[positional.length - 1] as Record<string, unknown>;
    positional = positional.slice(0, -1);
  }
  const misplaced = positional.findIndex((v) => isPlainObject(v));
  if (misplaced >= 0) throw new ValueError(`${who}: an options object must be the last argument, found one at optional argument ${misplaced + 1}`);
  if (positional.length > names.length) throw new ValueError(`${who}: expected at most ${names.length} optional arguments (${names.join(', ')}), received ${positional.length}`);
  positional.forEach((v, i) => {
    if (v !== undefined) out[names[i]!] = v;
  });
  if (options) {
    for (const [k, v] of Object.entries(options)) {
      if (!names.includes(k)) throw new ValueError(`${who}: unknown option ${JSON.stringify(k)}; accepted: ${names.join(', ') || 'none'}`);
      if (v !== undefined) out[k] = v;
    }
  }
  return out as T;
}
