/**
 * The narrow interface every backend implements: storage, kernels keyed by op
 * name, and compilation of a whole graph into an executable.
 */
import type { DType, TypedArray } from '../dtype.js';
import type { Attrs } from '../ops/registry.js';
import type { Tensor } from '../tensor.js';
import type { Graph } from '../ir/graph.js';

/** Output description handed to a kernel: concrete shape and dtype. */
export interface OutputSpec {
  shape: number[];
  dtype: DType;
}

/** A kernel computes the outputs of one op from concrete inputs; it returns backend storage. */
export type Kernel = (inputs: Tensor[], attrs: Attrs, outputs: OutputSpec[]) => unknown[];

/**
 * A graph compiled for one backend. `run` resolves with the graph's outputs and applies variable updates.
 * The executable owns the constants its graph captured: `dispose()` frees them (Graph.dispose), after
 * which the graph can no longer be run, compiled or differentiated.
 */
export interface Executable {
  run(feeds: Tensor[]): Promise<Tensor[]>;
  runSync(feeds: Tensor[]): Tensor[];
  dispose(): void;
}

export interface Backend {
  readonly name: string;
  /** Copies values into backend memory. */
  upload(values: TypedArray, dtype: DType, shape?: readonly number[]): unknown;
  /** Reads values back (a fresh or read-only view; callers must not mutate it). */
  read(storage: unknown, dtype: DType): TypedArray;
  /** Values in a new array the caller owns (dataSync): one copy, not a view copied again. */
  readCopy(storage: unknown, dtype: DType): TypedArray;
  /** As readCopy, without blocking the event loop where the backend allows. */
  readAsync(storage: unknown, dtype: DType): Promise<TypedArray>;
  /** Reference counting lets views (reshape) share storage. */
  retain(storage: unknown): void;
  release(storage: unknown): void;
  /** Bytes this backend holds for live storage. */
  memoryBytes(): number;
  kernel(op: string): Kernel | undefined;
  kernelNames(): string[];
  compile(graph: Graph): Executable;
}
