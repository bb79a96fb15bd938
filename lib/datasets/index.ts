/** `keras.datasets`: loaders returning plain typed arrays (no tensor backend needed). */
export * as mnist from './mnist.js';
export { getFile, kerasHome, type GetFileOptions, type GetFileResult } from './get_file.js';
