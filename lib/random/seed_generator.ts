/**
 * keras.random.SeedGenerator and seed handling. A generator's state is a keras.Variable
 * of int32 [seed, counter]; each draw uses the state as the Philox key and then adds
 * [0, 1] to it, so inside a traced train step the advance is a graph variable update.
 */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { eagerly, fromValues, getBackend, run1 } from '../engine.js';
import { Tensor } from '../tensor.js';
import { Variable } from '../variable.js';
import { randomInt } from 'node:crypto';

/** What the `seed` argument of keras.random accepts. */
export type SeedLike = number | SeedGenerator | Tensor | null | undefined;

/** Checks an integer seed; any int32 or uint32 value is accepted and used as 32 bits. */
function checkSeed(seed: unknown, op: string): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < -2147483648 || seed > 4294967295) {
    throw new ValueError(`${op}: seed must be an integer in [-2^31, 2^32), a SeedGenerator, an int32 tensor of shape (2,), or null; received ${String(seed)}`);
  }
  return seed | 0;
}

function stateTensor(seed: number, counter: number): Tensor {
  return fromValues(Int32Array.of(seed, counter), [2], 'int32');
}

/**
 * Keras 3 `SeedGenerator`: a stateful seed for random ops that must differ on every
 * call (dropout in a train step). `seed` defaults to a random value.
 */
export class SeedGenerator {
  /** int32 [seed, counter]; not trainable. */
  readonly state: Variable;
  /** The seed this generator was created with. */
  readonly seed: number;

  constructor(seed?: number | null | { seed?: number | null; name?: string }, options: { name?: string } = {}) {
    const opts = seed !== null && typeof seed === 'object' ? seed : { seed, name: options.name };
    // Keras draws a default seed in [1, 1e9] when none is given (reproducible after setRandomSeed).
    this.seed = opts.seed === null || opts.seed === undefined ? defaultSeed() : checkSeed(opts.seed, 'SeedGenerator');
    const initial = this.seed;
    this.state = new Variable(() => stateTensor(initial, 0), { name: opts.name ?? 'seed_generator_state', trainable: false });
  }

  /**
   * The key for the next draw (int32 [2]), advancing the counter by one. Inside a trace
   * the key is symbolic and the advance becomes a graph update of `state`.
   */
  next(): Tensor {
    const current = this.state.value;
    // Eagerly, assign() below frees the variable's handle on the old value: keep one of our own.
    const key = current.isSymbolic ? current : run1('identity', [current]);
    const step = fromValues(Int32Array.of(0, 1), [2], 'int32', current.backend ?? undefined);
    const advanced = run1('add', [current, step]);
    this.state.assign(advanced);
    advanced.dispose();
    step.dispose();
    return key;
  }

  /** Keras config: `{seed}`. */
  getConfig(): { seed: number } {
    return { seed: this.seed };
  }
}

let globalGenerator: SeedGenerator | null = null;

/** State of the stream of default seeds (Keras draws them from Python's `random`, which set_random_seed seeds). */
let defaultSeedState = randomInt(1, 2 ** 31);

/** The next default seed in [1, 1e9] (mulberry32 over `defaultSeedState`). */
function defaultSeed(): number {
  defaultSeedState = (defaultSeedState + 0x6d2b79f5) >>> 0;
  let t = defaultSeedState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return 1 + (((t ^ (t >>> 14)) >>> 0) % 1_000_000_000);
}

/** The generator used when no seed is given (created on first use with a random seed). */
export function globalSeedGenerator(): SeedGenerator {
  if (!globalGenerator) globalGenerator = new SeedGenerator(null, { name: 'global_seed_generator_state' });
  return globalGenerator;
}

/** The global generator's state stays where it was made; its keys follow the current backend. */
function toCurrentBackend(key: Tensor): Tensor {
  if (key.isSymbolic || key.backend === getBackend()) return key;
  const copy = fromValues(key.values().slice(), [2], 'int32');
  key.dispose();
  return copy;
}

/**
 * `keras.utils.set_random_seed`: resets the global generator to [seed, 0], so unseeded
 * random ops (and layers without a seed) become reproducible.
 */
export function setRandomSeed(seed: number): void {
  const s = checkSeed(seed, 'setRandomSeed');
  const g = globalSeedGenerator();
  defaultSeedState = s >>> 0;
  eagerly(() => {
    const t = stateTensor(s, 0);
    g.state.assign(t);
    t.dispose();
  });
}

/**
 * The int32 [2] Philox key for one draw: an integer seed s gives (s, 0); a SeedGenerator
 * gives next(); a tensor is used as is; null/undefined draws from the global generator.
 */
export function drawSeed(seed: SeedLike, op: string): Tensor {
  if (seed === null || seed === undefined) return toCurrentBackend(globalSeedGenerator().next());
  if (seed instanceof SeedGenerator) return seed.next();
  if (seed instanceof Tensor) {
    if (seed.dtype !== 'int32' || seed.rank !== 1 || (seed.shape[0] !== null && seed.shape[0] !== 2)) {
      const Err = seed.dtype !== 'int32' ? DTypeError : ShapeError;
      throw new Err(`${op}: a seed tensor must be int32 of shape (2,), received ${seed.dtype} ${fmtShape(seed.shape)}`);
    }
    if (!seed.isSymbolic && seed.backend !== getBackend()) return fromValues(seed.values().slice(), [2], 'int32');
    return seed;
  }
  return stateTensor(checkSeed(seed, op), 0);
}
