import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../lib/utils/npy.js';
import { encodeNpz, parseNpz } from '../../lib/utils/npz.js';
import { readZip, writeZip } from '../../lib/utils/zip.js';

const hasPython = (() => {
  try {
    execFileSync('python3', ['-c', 'import zipfile']);
    return true;
  } catch {
    return false;
  }
})();

const dir = mkdtempSync(join(tmpdir(), 'keras-zip-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Little-endian fields, written one after another. */
function le(...fields: [number, 2 | 4 | 8][]): Buffer {
  const out = Buffer.alloc(fields.reduce((a, [, n]) => a + n, 0));
  let o = 0;
  for (const [v, n] of fields) {
    if (n === 2) out.writeUInt16LE(v, o);
    else if (n === 4) out.writeUInt32LE(v, o);
    else out.writeBigUInt64LE(BigInt(v), o);
    o += n;
  }
  return out;
}

/**
 * A zip written by hand, independent of writeZip: one stored and one deflated
 * entry, a data-descriptor flag with zero sizes in the local header (as streaming
 * writers do), sizes only in a zip64 extra field of the central directory, and an
 * archive comment after the end record.
 */
function handMadeZip(files: { name: string; data: Buffer; deflate: boolean }[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const body = f.deflate ? deflateRawSync(f.data) : f.data;
    const name = Buffer.from(f.name);
    const method = f.deflate ? 8 : 0;
    const crc = crc32(f.data);
    const local = Buffer.concat([
      le([0x04034b50, 4], [45, 2], [0x08, 2], [method, 2], [0, 2], [0, 2], [0, 4], [0, 4], [0, 4], [name.length, 2], [0, 2]),
      name,
    ]);
    const descriptor = le([0x08074b50, 4], [crc, 4], [body.length, 4], [f.data.length, 4]);
    const zip64 = le([1, 2], [16, 2], [f.data.length, 8], [body.length, 8]);
    central.push(
      Buffer.concat([
        le([0x02014b50, 4], [45, 2], [45, 2], [0x08, 2], [method, 2], [0, 2], [0, 2], [crc, 4], [0xffffffff, 4], [0xffffffff, 4]),
        le([name.length, 2], [zip64.length, 2], [0, 2], [0, 2], [0, 2], [0, 4], [offset, 4]),
        name,
        zip64,
      ]),
    );
    parts.push(local, body, descriptor);
    offset += local.length + body.length + descriptor.length;
  }
  const cd = Buffer.concat(central);
  const comment = Buffer.from('made by hand');
  const eocd = le([0x06054b50, 4], [0, 2], [0, 2], [files.length, 2], [files.length, 2], [cd.length, 4], [offset, 4], [comment.length, 2]);
  return Buffer.concat([...parts, cd, eocd, comment]);
}

describe('readZip', () => {
  const text = Buffer.from('hello zip '.repeat(100));
  const binary = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 255));

  it('reads stored and deflated entries of a hand-made zip (zip64 sizes, data descriptors, comment)', () => {
    const zip = handMadeZip([
      { name: 'a.txt', data: text, deflate: true },
      { name: 'dir/b.bin', data: binary, deflate: false },
    ]);
    const entries = readZip(zip, 'hand.zip');
    expect(entries.map((e) => [e.name, e.method, e.size])).toEqual([
      ['a.txt', 8, text.length],
      ['dir/b.bin', 0, binary.length],
    ]);
    expect(entries[0]!.compressedSize).toBeLessThan(text.length);
    expect(Buffer.from(entries[0]!.read())).toEqual(text);
    expect(Buffer.from(entries[1]!.read())).toEqual(binary);
  });

  it.skipIf(!hasPython)("reads zips from Python's zipfile, including numpy.savez's forced zip64", () => {
    const path = join(dir, 'py.zip');
    writeFileSync(join(dir, 'bin'), binary);
    const script = `
import zipfile, sys
data = open(sys.argv[2], 'rb').read()
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr(zipfile.ZipInfo('stored.bin'), data)
    z.writestr('deflated.txt', b'hello zip ' * 100, compress_type=zipfile.ZIP_DEFLATED)
    with z.open('forced64.bin', 'w', force_zip64=True) as f:
        f.write(data)
`;
    execFileSync('python3', ['-c', script, path, join(dir, 'bin')]);
    const entries = readZip(readFileSync(path), path);
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(Object.keys(byName).sort()).toEqual(['deflated.txt', 'forced64.bin', 'stored.bin']);
    expect(Buffer.from(byName['stored.bin']!.read())).toEqual(binary);
    expect(Buffer.from(byName['deflated.txt']!.read())).toEqual(text);
    expect(Buffer.from(byName['forced64.bin']!.read())).toEqual(binary);
  });

  it('round-trips writeZip, stored and compressed', () => {
    for (const compress of [false, true]) {
      const zip = writeZip([{ name: 'x', data: binary }, { name: 'empty', data: new Uint8Array(0) }], { compress });
      const [x, empty] = readZip(zip);
      expect(x!.method).toBe(compress ? 8 : 0);
      expect(Buffer.from(x!.read())).toEqual(binary);
      expect(empty!.read().length).toBe(0);
    }
  });

  it.skipIf(!hasPython)("writes zips that Python's zipfile accepts", () => {
    const path = join(dir, 'ours.zip');
    writeFileSync(path, writeZip([{ name: 'a.txt', data: text }], { compress: true }));
    const out = execFileSync('python3', ['-c', 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; sys.stdout.write(z.read("a.txt").decode())', path]);
    expect(out.toString()).toBe(text.toString());
  });

  it('rejects a file that is not a zip, naming it', () => {
    expect(() => readZip(Buffer.from('definitely not a zip archive at all'), 'data.npz')).toThrow(
      /data\.npz.*no end-of-central-directory record/,
    );
  });

  it('rejects a truncated archive', () => {
    const zip = writeZip([{ name: 'x', data: binary }]);
    const cut = Buffer.concat([zip.subarray(0, 100), zip.subarray(zip.length - 22)]);
    expect(() => readZip(cut, 'cut.zip')).toThrow(/cut\.zip.*(truncated|bad)/);
  });

  it('detects corrupted entry data by its CRC', () => {
    const zip = writeZip([{ name: 'x', data: binary }]);
    zip[30 + 1 + 5] ^= 0xff; // a byte inside the stored data of entry 'x'
    const [x] = readZip(zip, 'bad.zip');
    expect(() => x!.read()).toThrow(/bad\.zip.*'x' fails its CRC-32 check/);
  });

  it('rejects unsupported compression methods', () => {
    const zip = writeZip([{ name: 'x', data: binary }]);
    const cdOffset = Buffer.from(zip).readUInt32LE(zip.length - 22 + 16);
    zip[cdOffset + 10] = 12; // bzip2
    expect(() => readZip(zip, 'bz.zip')).toThrow(/'x' uses compression method 12/);
  });
});

describe('npz', () => {
  const arrays = {
    x_train: { dtype: 'uint8' as const, shape: [2, 2, 2], data: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 254) },
    y_train: { dtype: 'int64' as const, shape: [2], data: BigInt64Array.of(3n, 9n) },
    w: { dtype: 'float32' as const, shape: [3], data: Float32Array.of(0.5, -1, 2) },
  };

  it('round-trips named arrays, stored (savez) and compressed (savez_compressed)', () => {
    expect(parseNpz(encodeNpz(arrays))).toEqual(arrays);
    expect(parseNpz(encodeNpz(arrays, { compress: true }))).toEqual(arrays);
  });

  it('names the archive and the entry when an array is malformed', () => {
    const zip = writeZip([{ name: 'ok.npy', data: encodeNpy(arrays.w) }, { name: 'bad.npy', data: Uint8Array.of(1, 2, 3) }]);
    expect(() => parseNpz(zip, 'model.npz')).toThrow(/model\.npz\/bad\.npy.*bad magic/);
  });

  it.skipIf(!hasPython)('reads an npz laid out as numpy.savez writes it (forced zip64 entries)', () => {
    const path = join(dir, 'np.npz');
    const npyDir = join(dir, 'npy');
    execFileSync('mkdir', ['-p', npyDir]);
    for (const [k, a] of Object.entries(arrays)) writeFileSync(join(npyDir, `${k}.npy`), encodeNpy(a));
    const script = `
import zipfile, sys, os
with zipfile.ZipFile(sys.argv[1], 'w', compression=zipfile.ZIP_DEFLATED) as z:
    for f in sorted(os.listdir(sys.argv[2])):
        with z.open(f, 'w', force_zip64=True) as out:
            out.write(open(os.path.join(sys.argv[2], f), 'rb').read())
`;
    execFileSync('python3', ['-c', script, path, npyDir]);
    expect(parseNpz(readFileSync(path), path)).toEqual(arrays);
  });
});
