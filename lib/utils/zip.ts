/**
 * A small zip reader and writer (stored and deflate entries, zip64), enough for
 * NumPy `.npz` archives and other Keras files that are zips.
 * Format: PKWARE APPNOTE.TXT, sections 4.3 (structure) and 4.5.3 (zip64 extra).
 */
import * as zlib from 'node:zlib';
import { ValueError } from '../errors.js';

/** One file inside a zip archive; its bytes are decompressed on demand. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated. */
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /**
   * Decompresses and CRC-checks the entry. A stored entry's bytes are a view
   * into the archive (no copy). @throws ValueError on corrupt data.
   */
  read(): Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const U32_MAX = 0xffffffff;

// node:zlib has crc32 from Node 20.15; earlier 20.x gets this table version.
let crcTable: Uint32Array | undefined;
function crc32(data: Uint8Array): number {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = U32_MAX;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ U32_MAX) >>> 0;
}

/**
 * Lists the entries of a zip archive held in memory, from its central directory.
 *
 * @param bytes the whole archive.
 * @param name how to name the archive in errors (usually its path).
 * @throws ValueError naming the archive and what is malformed or unsupported.
 */
export function readZip(bytes: Uint8Array, name = '<zip>'): ZipEntry[] {
  const fail = (what: string): never => {
    throw new ValueError(`Cannot read ${name} as a zip archive: ${what}.`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => {
    const v = view.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('a zip64 size or offset is too large');
    return Number(v);
  };

  // The end-of-central-directory record is last, followed by a comment of up to 64 KiB.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (u32(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (not a zip, or truncated)');
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  // Zip64 archives put 0xFFFF.. here and the real values in a zip64 EOCD record.
  if (eocd >= 20 && u32(eocd - 20) === SIG_ZIP64_LOCATOR) {
    const z = u64(eocd - 20 + 8);
    if (z + 56 > bytes.length || u32(z) !== SIG_ZIP64_EOCD) fail('bad zip64 end-of-central-directory record');
    count = u64(z + 32);
    cdSize = u64(z + 40);
    cdOffset = u64(z + 48);
  }
  if (cdOffset + cdSize > bytes.length) fail('central directory runs past the end of the file (truncated?)');

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || u32(p) !== SIG_CENTRAL) fail(`bad central directory entry ${i}`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let compressedSize = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let localOffset = u32(p + 42);
    const entryName = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extra field (id 1): only the fields that overflowed, in this order.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = u16(e);
      const len = u16(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (size === U32_MAX) {
          size = u64(q);
          q += 8;
        }
        if (compressedSize === U32_MAX) {
          compressedSize = u64(q);
          q += 8;
        }
        if (localOffset === U32_MAX) localOffset = u64(q);
      }
      e += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;

    if (flags & 1) fail(`entry '${entryName}' is encrypted`);
    if (method !== 0 && method !== 8) fail(`entry '${entryName}' uses compression method ${method} (only stored and deflate are supported)`);
    if (localOffset + 30 > bytes.length || u32(localOffset) !== SIG_LOCAL) fail(`bad local header for entry '${entryName}'`);
    // The local header's name and extra lengths may differ from the central copy.
    const dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
    if (dataStart + compressedSize > bytes.length) fail(`entry '${entryName}' runs past the end of the file (truncated?)`);

    entries.push({
      name: entryName,
      method,
      compressedSize,
      size,
      crc32: crc,
      read() {
        const raw = bytes.subarray(dataStart, dataStart + compressedSize);
        let out: Uint8Array;
        try {
          out = method === 0 ? raw : zlib.inflateRawSync(raw);
        } catch (err) {
          return fail(`entry '${entryName}' has corrupt deflate data (${(err as Error).message})`);
        }
        if (out.length !== size) fail(`entry '${entryName}' inflates to ${out.length} bytes, expected ${size}`);
        if (crc32(out) !== crc) fail(`entry '${entryName}' fails its CRC-32 check`);
        return out;
      },
    });
  }
  return entries;
}

/** One file to write with {@link writeZip}. */
export interface ZipInput {
  name: string;
  data: Uint8Array;
}

/**
 * Writes a zip archive (no zip64, so under 4 GiB). Entries are deflated when
 * `compress` is true, else stored, as `numpy.savez_compressed` / `numpy.savez` do.
 */
export function writeZip(files: ZipInput[], options: { compress?: boolean } = {}): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const nameBytes = new TextEncoder().encode(f.name);
    const body = options.compress ? new Uint8Array(zlib.deflateRawSync(f.data)) : f.data;
    const method = options.compress ? 8 : 0;
    const crc = crc32(f.data);
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, 20, true); // version needed: 2.0 (deflate)
    lv.setUint16(8, method, true);
    lv.setUint16(12, 0x21, true); // DOS date 1980-01-01: fixed, so output is reproducible
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, f.data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);

    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, SIG_CENTRAL, true);
    cv.setUint16(4, 20, true); // version made by
    cv.setUint16(6, 20, true); // version needed
    cv.setUint16(10, method, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, f.data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    central.set(nameBytes, 46);

    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
    if (offset > U32_MAX) throw new ValueError('writeZip: archives over 4 GiB (zip64) are not supported.');
  }
  const cdSize = centrals.reduce((a, c) => a + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let o = 0;
  for (const part of [...locals, ...centrals, eocd]) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}
