/**
 * Backend registration. `js` is always available; `cpu` and `cuda` load their
 * native addons lazily when first selected.
 */
import { registerBackend } from '../engine.js';
import { JsBackend } from './js/index.js';
import { CpuBackend } from './cpu/index.js';

registerBackend('js', () => new JsBackend());
// Throws NativeBackendUnavailableError (why, and how to build the addon) when the addon cannot load.
registerBackend('cpu', () => new CpuBackend());
