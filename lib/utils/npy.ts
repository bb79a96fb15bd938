/**
 * NumPy `.npy` reading and writing, on plain typed arrays (no tensor core), so
 * datasets and weight files saved by NumPy load anywhere in the library.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { ValueError } from '../errors.js';

/** Dtypes an `.npy` file may hold here, named as Keras names them. */
export type NpyDtype =
  | 'bool'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

/** The typed array that carries each dtype (`bool` is one byte per element, 0 or 1). */
export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A C-ordered (row-major) array read from or written to `.npy`. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

interface DtypeInfo {
  dtype: NpyDtype;
  size: number;
  make: (buf: ArrayBuffer) => NpyData;
}

// Keyed by NumPy's descr without the byte-order character; one-byte types use '|'.
const DTYPES: Record<string, DtypeInfo> = {
  b1: { dtype: 'bool', size: 1, make: (b) => new Uint8Array(b) },
  u1: { dtype: 'uint8', size: 1, make: (b) => new Uint8Array(b) },
  i1: { dtype: 'int8', size: 1, make: (b) => new Int8Array(b) },
  u2: { dtype: 'uint16', size: 2, make: (b) => new Uint16Array(b) },
  i2: { dtype: 'int16', size: 2, make: (b) => new Int16Array(b) },
  u4: { dtype: 'uint32', size: 4, make: (b) => new Uint32Array(b) },
  i4: { dtype: 'int32', size: 4, make: (b) => new Int32Array(b) },
  u8: { dtype: 'uint64', size: 8, make: (b) => new BigUint64Array(b) },
  i8: { dtype: 'int64', size: 8, make: (b) => new BigInt64Array(b) },
  f4: { dtype: 'float32', size: 4, make: (b) => new Float32Array(b) },
  f8: { dtype: 'float64', size: 8, make: (b) => new Float64Array(b) },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

// Typed arrays use the host byte order; '<' data maps onto them unchanged only here.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses one `.npy` file.
 *
 * Supports format versions 1.0 to 3.0, little-endian (or byte-order-free) numeric
 * and bool dtypes, C order. The returned data is a fresh, aligned copy.
 *
 * @param bytes the whole file.
 * @param name how to name the file in errors (a path, or `archive.npz/x_train.npy`).
 * @throws ValueError naming the file and what is malformed or unsupported.
 */
export function parseNpy(bytes: Uint8Array, name = '<npy>'): NpyArray {
  const fail = (what: string): never => {
    throw new ValueError(`Cannot read ${name} as .npy: ${what}.`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('bad magic string (expected "\\x93NUMPY" at the start)');
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`unsupported format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail('file ends inside the header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) fail(`header length ${headerLen} runs past the end of the file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(8 + lenBytes, dataStart),
  );

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`header is missing 'descr', 'fortran_order' or 'shape': ${header.trim()}`);
  }
  if (fortran === 'True') fail('fortran_order=True is not supported (save with C order)');
  const order = descr![0];
  const info = DTYPES[descr!.slice(1)];
  const byteOrderOk = order === '|' || (order === '<' && LITTLE_ENDIAN) || (order === '>' && info?.size === 1);
  if (!info || !byteOrderOk) fail(`unsupported dtype descr '${descr}'`);

  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+L?$/.test(s)) fail(`bad shape (${shapeText})`);
      return parseInt(s, 10);
    });
  const count = shape.reduce((a, b) => a * b, 1);
  const nbytes = count * info!.size;
  const have = bytes.length - dataStart;
  if (have !== nbytes) {
    fail(`shape (${shape.join(', ')}) of ${descr} needs ${nbytes} data bytes, found ${have}`);
  }
  // Copy into a new ArrayBuffer: aligned for any element size, and independent of
  // the buffer the file was read into. (Not bytes.slice(): on a Buffer it shares memory.)
  const data = info!.make(new Uint8Array(bytes.subarray(dataStart)).buffer);
  return { dtype: info!.dtype, shape, data };
}

/**
 * Encodes an array as a version 1.0 `.npy` file (as `numpy.save` writes it).
 *
 * @throws ValueError when the data length does not match the shape.
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const entry = Object.entries(DTYPES).find(([, v]) => v.dtype === array.dtype);
  if (!entry) throw new ValueError(`encodeNpy: unsupported dtype '${array.dtype}'.`);
  const [code, info] = entry;
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count) {
    throw new ValueError(
      `encodeNpy: shape (${array.shape.join(', ')}) holds ${count} elements, data has ${array.data.length}.`,
    );
  }
  if (!LITTLE_ENDIAN && info.size > 1) throw new ValueError('encodeNpy: big-endian hosts are not supported.');
  const descr = (info.size === 1 ? '|' : '<') + code;
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // NumPy pads with spaces so the data starts on a 64-byte boundary, then '\n'.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + count * info.size);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), 10 + header.length);
  return out;
}
