/**
 * Backend registration. `js` is always available; `cpu` and `cuda` load their
 * native addons lazily when first selected.
 */
import { registerBackend } from '../engine.js';
import { JsBackend } from './js/index.js';

registerBackend('js', () => new JsBackend());
