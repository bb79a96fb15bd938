/**
 * Runs before every test file. Vitest runs a file's synchronous tests back to back without
 * letting the event loop turn, and a worker's calls to the main process (task updates) time
 * out after 60 s without a turn: a file of long native tests (the elementwise kernels past a
 * 32 MiB last-level cache, 74 s on a loaded 2-core machine) failed the run with `Timeout calling
 * "onTaskUpdate"` though every test passed. One turn after each test keeps those calls answered.
 */
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
