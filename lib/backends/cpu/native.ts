/**
 * Loader and typed surface of the native CPU addon (native/binding).
 *
 * The binary is found by node-gyp-build: a local `build/Release` (a source build,
 * made by `npm install` when no prebuild matches or by `npx node-gyp rebuild`),
 * else `prebuilds/<platform>-<arch>/` from `npm run prebuild`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';

/** dtype names the engine stores; `bool` is held as one byte per element. */
export type NativeDType = 'float32' | 'float64' | 'int32' | 'bool';

export type NativeTypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Attribute values a kernel accepts; integral numbers arrive as integers. */
export type NativeAttrValue = boolean | number | string | number[];
export type NativeAttrs = Record<string, NativeAttrValue | undefined | null>;

/** A tensor in native memory. Free it with `dispose()`; GC frees it too, later. */
export interface NativeTensor {
  readonly shape: number[];
  readonly dtype: NativeDType;
  /** Number of elements. */
  readonly size: number;
  readonly disposed: boolean;
  /** Copies the values into a new TypedArray (Uint8Array for bool). */
  read(): NativeTypedArray;
  dispose(): void;
}

export interface NativeBackendInfo {
  /** The instruction-set path in use: 'avx512' | 'avx2' | 'portable'. */
  isa: string;
  /** Paths this CPU can run, best first. */
  availableIsas: string[];
  threads: number;
  /** Build system that produced the binary: 'node-gyp' | 'cmake-js'. */
  build: string;
  compiler: string;
  /** Micro-kernels in use, e.g. f32_gemm_14x32_avx512. */
  kernels: { f32Gemm: string; f64Gemm: string; f32GemmBlocking: { mc: number; kc: number; nc: number } };
  cpu: {
    vendor: string;
    brand: string;
    physicalCores: number;
    logicalCpus: number;
    l1dBytes: number;
    l2Bytes: number;
    l3Bytes: number;
  };
  /** Ops with a CPU kernel. */
  ops: string[];
}

export interface NativeMemoryInfo {
  /** Bytes held by live tensors. */
  liveBytes: number;
  liveBuffers: number;
  /** Freed bytes kept by the caching allocator for reuse. */
  cachedBytes: number;
  peakLiveBytes: number;
  /**
   * Bytes of this thread's live handles that V8 has been told about (so it collects
   * dropped handles under memory pressure). Told in batches: within 1 MiB of their bytes.
   */
  reportedExternalBytes: number;
}

/**
 * The addon's exports. Errors from bad input are thrown (or, for the async
 * variant, rejected) as Error objects whose `name` is ShapeError, DTypeError or
 * ValueError and whose message names the op and the shapes.
 */
export interface NativeAddon {
  createTensor(data: NativeTypedArray, shape: readonly number[], dtype: NativeDType): NativeTensor;
  runKernel(op: string, inputs: readonly NativeTensor[], attrs?: NativeAttrs): NativeTensor[];
  /** Same as runKernel, computed off the event loop. Inputs stay alive until it settles. */
  runKernelAsync(op: string, inputs: readonly NativeTensor[], attrs?: NativeAttrs): Promise<NativeTensor[]>;
  backendInfo(): NativeBackendInfo;
  memoryInfo(): NativeMemoryInfo;
  /** Returns the allocator's cached blocks to the OS. */
  releaseCache(): void;
  /** Measured FP32 FMA throughput of `threads` threads, in GFLOP/s. */
  peakFlops(threads: number, seconds: number): number;
  /** Switches the ISA path (tests, benchmarks); throws if this CPU lacks it. */
  setIsa(isa: string): void;
  /** Resizes the thread pool; n <= 0 restores the default. Not while kernels run. */
  setNumThreads(n: number): void;
}

/** Thrown when the native addon cannot be loaded; `cause` holds the loader's error. */
export class NativeBackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeBackendUnavailableError';
  }
}

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  // Works from lib/ (tsx, vitest) and from dist/lib/ (compiled).
  while (!fs.existsSync(path.join(dir, 'binding.gyp'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no binding.gyp above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

let cached: NativeAddon | undefined;

/** Loads the addon once; throws NativeBackendUnavailableError explaining why it cannot. */
export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    const root = packageRoot();
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    cached = nodeGypBuild(root) as NativeAddon;
    return cached;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NativeBackendUnavailableError(
      `The cpu backend is unavailable: the native addon could not be loaded (${reason}). ` +
        'Build it with `npx node-gyp rebuild` (needs a C++17 compiler and Python), ' +
        "or use the 'js' backend.",
      { cause: error },
    );
  }
}

/** True when the addon loads; never throws. */
export function isNativeAvailable(): boolean {
  try {
    loadNativeAddon();
    return true;
  } catch {
    return false;
  }
}
