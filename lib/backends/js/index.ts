/**
 * The `js` backend: reference kernels over TypedArrays. Obviously correct first,
 * with loop orders good enough that small models train in seconds.
 */
import type { TypedArray } from '../../dtype.js';
import type { Backend, Executable, Kernel } from '../backend.js';
import type { Graph } from '../../ir/graph.js';
import { interpretedExecutable } from '../../ir/execute.js';
import { JsStorage } from './storage.js';
import { elementwiseKernels } from './elementwise.js';
import { reductionKernels } from './reduction.js';
import { shapeKernels } from './shape.js';
import { linalgKernels } from './linalg.js';
import { nnKernels } from './nn.js';
import { normKernels } from './norm.js';
import { randomKernels } from './random.js';
import { creationKernels } from './creation.js';
import { indexingKernels } from './indexing.js';
import { optimizerKernels } from './optimizer.js';

export class JsBackend implements Backend {
  readonly name = 'js';
  private bytes = 0;
  private readonly kernels = new Map<string, Kernel>(
    Object.entries({ ...elementwiseKernels, ...reductionKernels, ...shapeKernels, ...linalgKernels, ...nnKernels, ...normKernels, ...randomKernels, ...creationKernels, ...indexingKernels, ...optimizerKernels }),
  );

  upload(values: TypedArray): unknown {
    return new JsStorage(values.slice());
  }

  read(storage: unknown): TypedArray {
    return (storage as JsStorage).data;
  }

  readCopy(storage: unknown): TypedArray {
    return (storage as JsStorage).data.slice();
  }

  async readAsync(storage: unknown): Promise<TypedArray> {
    return this.readCopy(storage);
  }

  retain(storage: unknown): void {
    const s = storage as JsStorage;
    if (s.refs++ === 0) this.bytes += s.data.byteLength;
  }

  release(storage: unknown): void {
    const s = storage as JsStorage;
    if (--s.refs === 0) this.bytes -= s.data.byteLength;
  }

  memoryBytes(): number {
    return this.bytes;
  }

  kernel(op: string): Kernel | undefined {
    return this.kernels.get(op);
  }

  kernelNames(): string[] {
    return [...this.kernels.keys()];
  }

  compile(graph: Graph): Executable {
    return interpretedExecutable(graph, this);
  }
}

