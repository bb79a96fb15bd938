/**
 * Downloading dataset files into the Keras cache, as `keras.utils.get_file` does:
 * cached under `~/.keras/datasets` (or `$KERAS_HOME/datasets`), verified by
 * sha256, and written atomically so an interrupted download never looks cached.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ValueError } from '../errors.js';

/** Options of {@link getFile}, named after `keras.utils.get_file`'s arguments. */
export interface GetFileOptions {
  /** URL to download from when the file is not cached (or fails its hash). */
  origin: string;
  /** Expected sha256 (hex). When given, the cached copy and every download are checked. */
  fileHash?: string;
  /** Cache root; files go to `<cacheDir>/<cacheSubdir>`. Default `$KERAS_HOME` or `~/.keras`. */
  cacheDir?: string;
  /** Default `'datasets'`. */
  cacheSubdir?: string;
  /** Abort when no bytes arrive for this long (ms): a stall, not a slow link. Default 30000. */
  timeoutMs?: number;
}

/** Where a file came from: the verified cache, or a fresh download. */
export interface GetFileResult {
  path: string;
  fromCache: boolean;
}

/**
 * The Keras cache root: `$KERAS_HOME`, else `~/.keras`, falling back to
 * `<tmpdir>/.keras` when the home directory is not writable (as Keras does).
 */
export async function kerasHome(): Promise<string> {
  if (process.env.KERAS_HOME) return process.env.KERAS_HOME;
  const home = join(homedir(), '.keras');
  try {
    await mkdir(home, { recursive: true });
    await access(home, constants.W_OK);
    return home;
  } catch {
    return join(tmpdir(), '.keras');
  }
}

/** sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Returns the path of `fname` in the cache, downloading it from `origin` first
 * when it is missing or fails `fileHash`.
 *
 * The download streams into a temporary file beside the target and is renamed
 * into place only after its hash matches, so concurrent or interrupted
 * downloads never leave a partial or corrupt file under the final name.
 *
 * @param fname file name inside the cache folder, or an absolute path.
 * @throws Error when the download fails (HTTP status, network, stall), and
 *   ValueError when the downloaded file does not match `fileHash`.
 */
export async function getFile(fname: string, options: GetFileOptions): Promise<GetFileResult> {
  const dir = join(options.cacheDir ?? (await kerasHome()), options.cacheSubdir ?? 'datasets');
  const path = isAbsolute(fname) ? fname : join(dir, fname);
  const want = options.fileHash?.toLowerCase();

  if (await exists(path)) {
    // A stale or damaged cached copy is replaced, as Keras does.
    if (!want || (await sha256File(path)) === want) return { path, fromCache: true };
  }

  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  const abort = new AbortController();
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer = setTimeout(() => abort.abort(), timeoutMs);
  const hash = createHash('sha256');
  try {
    let res: Response;
    try {
      res = await fetch(options.origin, { signal: abort.signal });
    } catch (err) {
      throw new Error(`URL fetch failure on ${options.origin}: ${describe(err, abort, timeoutMs)}`, { cause: err });
    }
    if (!res.ok || !res.body) {
      throw new Error(`URL fetch failure on ${options.origin}: ${res.status} -- ${res.statusText}`);
    }
    // Hash while writing, and re-arm the stall timer on every chunk.
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        clearTimeout(timer);
        timer = setTimeout(() => abort.abort(), timeoutMs);
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), tap, createWriteStream(tmp));
    } catch (err) {
      throw new Error(`URL fetch failure on ${options.origin}: ${describe(err, abort, timeoutMs)}`, { cause: err });
    }
    const got = hash.digest('hex');
    if (want && got !== want) {
      throw new ValueError(
        `Incomplete or corrupted file detected: ${fname} from ${options.origin} has sha256 ${got}, ` +
          `expected ${want}. The file was not saved; try again, or check the origin.`,
      );
    }
    await rename(tmp, path);
    return { path, fromCache: false };
  } finally {
    clearTimeout(timer);
    await rm(tmp, { force: true });
  }
}

function describe(err: unknown, abort: AbortController, timeoutMs: number): string {
  if (abort.signal.aborted) return `no data for ${timeoutMs} ms`;
  const e = err as Error & { cause?: { message?: string } };
  return e.cause?.message ? `${e.message} (${e.cause.message})` : String(e.message ?? err);
}
