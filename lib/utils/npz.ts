/**
 * NumPy `.npz` archives: a zip of `.npy` files, one per named array
 * (what `numpy.savez` writes and `numpy.load` reads).
 */
import { readFile } from 'node:fs/promises';
import { ValueError } from '../errors.js';
import { encodeNpy, parseNpy, type NpyArray } from './npy.js';
import { readZip, writeZip } from './zip.js';

/**
 * Parses an `.npz` archive held in memory.
 *
 * @param bytes the whole archive.
 * @param name how to name the archive in errors (usually its path).
 * @returns the arrays keyed by name, without the `.npy` suffix (as `numpy.load` does).
 * @throws ValueError naming the archive, the entry and what is malformed.
 */
export function parseNpz(bytes: Uint8Array, name = '<npz>'): Record<string, NpyArray> {
  const out: Record<string, NpyArray> = {};
  for (const entry of readZip(bytes, name)) {
    if (entry.name.endsWith('/')) continue; // directory entries carry no data
    if (!entry.name.endsWith('.npy')) {
      throw new ValueError(`Cannot read ${name} as .npz: entry '${entry.name}' is not an .npy file.`);
    }
    out[entry.name.slice(0, -4)] = parseNpy(entry.read(), `${name}/${entry.name}`);
  }
  return out;
}

/** Reads and parses an `.npz` file. @see parseNpz */
export async function loadNpz(path: string): Promise<Record<string, NpyArray>> {
  return parseNpz(await readFile(path), path);
}

/**
 * Encodes named arrays as an `.npz` archive: stored entries like `numpy.savez`,
 * or deflated like `numpy.savez_compressed` when `compress` is true.
 */
export function encodeNpz(arrays: Record<string, NpyArray>, options: { compress?: boolean } = {}): Uint8Array {
  const files = Object.entries(arrays).map(([key, a]) => ({ name: `${key}.npy`, data: encodeNpy(a) }));
  return writeZip(files, options);
}
