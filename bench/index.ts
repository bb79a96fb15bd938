/**
 * `npm run bench [-- train|gemm|all]`: benchmarks print figures next to limits or
 * baselines measured in the same run. Nothing here is asserted.
 */
import { runTrainBench } from './train.js';

const which = process.argv[2] ?? 'all';
if (which === 'train' || which === 'all') await runTrainBench();
if (which === 'gemm' || which === 'all') await import('./gemm.js');
