import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { getFile } from '../../lib/datasets/get_file.js';
import { loadData } from '../../lib/datasets/mnist.js';
import { encodeNpz } from '../../lib/utils/npz.js';

// A tiny MNIST-shaped npz: 3 train and 2 test images, pixel value = image index.
const image = (v: number) => new Uint8Array(784).fill(v);
const concat = (...a: Uint8Array[]) => Uint8Array.from(a.flatMap((x) => Array.from(x)));
const smallNpz = Buffer.from(
  encodeNpz(
    {
      x_train: { dtype: 'uint8', shape: [3, 28, 28], data: concat(image(0), image(1), image(2)) },
      y_train: { dtype: 'uint8', shape: [3], data: Uint8Array.of(5, 0, 4) },
      x_test: { dtype: 'uint8', shape: [2, 28, 28], data: concat(image(10), image(11)) },
      y_test: { dtype: 'uint8', shape: [2], data: Uint8Array.of(7, 2) },
    },
    { compress: true },
  ),
);
const smallHash = createHash('sha256').update(smallNpz).digest('hex');
const corrupt = Buffer.from(smallNpz);
corrupt[corrupt.length >> 1] ^= 0xff;

let server: Server;
let base = '';
const hits: Record<string, number> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    hits[req.url!] = (hits[req.url!] ?? 0) + 1;
    if (req.url === '/mnist.npz') res.end(smallNpz);
    else if (req.url === '/corrupt.npz') res.end(corrupt);
    else if (req.url === '/stall.npz') res.write(smallNpz.subarray(0, 100)); // never ends
    else {
      res.statusCode = 404;
      res.end('no');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

let cacheDir = '';
beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'keras-cache-test-'));
  for (const k of Object.keys(hits)) delete hits[k];
  return () => rmSync(cacheDir, { recursive: true, force: true });
});
const datasetsDir = () => join(cacheDir, 'datasets');

describe('getFile', () => {
  it('downloads into <cacheDir>/datasets, then serves the verified cache', async () => {
    const first = await getFile('small.npz', { origin: `${base}/mnist.npz`, fileHash: smallHash, cacheDir });
    expect(first).toEqual({ path: join(datasetsDir(), 'small.npz'), fromCache: false });
    expect(readFileSync(first.path)).toEqual(smallNpz);
    const second = await getFile('small.npz', { origin: `${base}/mnist.npz`, fileHash: smallHash, cacheDir });
    expect(second.fromCache).toBe(true);
    expect(hits['/mnist.npz']).toBe(1);
    expect(readdirSync(datasetsDir())).toEqual(['small.npz']); // no temp files left
  });

  it('rejects a download whose sha256 differs and leaves nothing in the cache', async () => {
    await expect(getFile('small.npz', { origin: `${base}/corrupt.npz`, fileHash: smallHash, cacheDir })).rejects.toThrow(
      /Incomplete or corrupted file detected: small\.npz .*expected [0-9a-f]{64}/,
    );
    expect(readdirSync(datasetsDir())).toEqual([]);
  });

  it('replaces a corrupt cached copy by downloading again', async () => {
    const good = await getFile('small.npz', { origin: `${base}/mnist.npz`, fileHash: smallHash, cacheDir });
    writeFileSync(good.path, corrupt);
    const again = await getFile('small.npz', { origin: `${base}/mnist.npz`, fileHash: smallHash, cacheDir });
    expect(again.fromCache).toBe(false);
    expect(readFileSync(again.path)).toEqual(smallNpz);
  });

  it('keeps a good cached copy when a re-download would fail', async () => {
    await getFile('small.npz', { origin: `${base}/mnist.npz`, fileHash: smallHash, cacheDir });
    const cached = await getFile('small.npz', { origin: `${base}/missing`, fileHash: smallHash, cacheDir });
    expect(cached.fromCache).toBe(true);
  });

  it('reports HTTP errors with the URL and status', async () => {
    await expect(getFile('x.npz', { origin: `${base}/missing`, cacheDir })).rejects.toThrow(
      `URL fetch failure on ${base}/missing: 404 -- Not Found`,
    );
    expect(existsSync(join(datasetsDir(), 'x.npz'))).toBe(false);
  });

  it('aborts a stalled download after timeoutMs and removes the partial file', async () => {
    await expect(getFile('s.npz', { origin: `${base}/stall.npz`, cacheDir, timeoutMs: 300 })).rejects.toThrow(
      /stall\.npz: no data for 300 ms/,
    );
    expect(readdirSync(datasetsDir())).toEqual([]);
  });
});

describe('mnist.loadData with a download', () => {
  it("downloads, verifies and parses the npz ('download'), then reads it from the cache", async () => {
    const opts = { source: 'download' as const, origin: `${base}/mnist.npz`, fileHash: smallHash, cacheDir };
    const d = await loadData(opts);
    expect(d.source).toBe('download');
    expect(d.path).toBe(join(datasetsDir(), 'mnist.npz'));
    expect(d.xTrain.shape).toEqual([3, 28, 28]);
    expect(Array.from(d.yTrain.data)).toEqual([5, 0, 4]);
    expect(d.xTest.data[784]).toBe(11);
    expect(Array.from(d.yTest.data)).toEqual([7, 2]);
    expect((await loadData(opts)).source).toBe('cache');
    expect(hits['/mnist.npz']).toBe(1);
  });

  it("'download' throws when the file is corrupt, and caches nothing", async () => {
    await expect(
      loadData({ source: 'download', origin: `${base}/corrupt.npz`, fileHash: smallHash, cacheDir }),
    ).rejects.toThrow(/corrupted file/);
    expect(readdirSync(datasetsDir())).toEqual([]);
  });

  it("'auto' falls back to the bundled subset, with a warning, when the download fails", async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const d = await loadData({ source: 'auto', origin: `${base}/missing`, cacheDir });
      expect(d.source).toBe('bundled');
      expect(d.xTrain.shape).toEqual([8000, 28, 28]);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/404.*bundled 10,000-digit subset/));
    } finally {
      warn.mockRestore();
    }
  });

  it('rejects an npz that lacks the MNIST arrays, naming the file and the key', async () => {
    const path = join(cacheDir, 'other.npz');
    writeFileSync(path, encodeNpz({ x_train: { dtype: 'float32', shape: [1, 28, 28], data: new Float32Array(784) } }));
    const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
    await expect(loadData({ source: 'download', path, fileHash: hash })).rejects.toThrow(
      /other\.npz: 'x_train' should be uint8 \(n, 28, 28\), received float32 \(1, 28, 28\)/,
    );
  });
});
