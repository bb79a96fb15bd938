/**
 * keras.random: counter-based (Philox4x32-10) random ops with Keras 3 names and
 * seeding (integer seeds, SeedGenerator, a global generator reset by setRandomSeed).
 */
export { uniform, normal, truncatedNormal, randint, dropout, shuffle, categorical } from './random.js';
export type { UniformOptions, NormalOptions, RandintOptions, DropoutOptions, ShuffleOptions, CategoricalOptions } from './random.js';
export { SeedGenerator, setRandomSeed, globalSeedGenerator, drawSeed, type SeedLike } from './seed_generator.js';
