import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // Every native buffer handed out filled with 0xFF bytes (NaN, -1): an output element a kernel
    // leaves unwritten fails its test instead of reading a stale, often right, earlier value.
    env: { KERAS_ALLOCATOR_POISON: '1' },
  },
});
