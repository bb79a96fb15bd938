/**
 * The graph IR: symbolic placeholders, op nodes in topological order, outputs,
 * captured constants, variable reads and variable updates. Backend-neutral.
 */
import type { DType } from '../dtype.js';
import { KerasError } from '../errors.js';
import type { Dim } from '../shape.js';
import type { Tensor, OpNode } from '../tensor.js';
import type { Variable } from '../variable.js';

/** Where a graph placeholder gets its value at run time. */
export type Placeholder =
  | { kind: 'input'; index: number }
  | { kind: 'constant'; value: Tensor }
  | { kind: 'variable'; variable: Variable };

export interface VariableUpdate {
  variable: Variable;
  value: Tensor;
}

export class Graph {
  private released = false;

  constructor(
    /** Symbolic input placeholders, in feed order. */
    readonly inputs: Tensor[],
    /** Nodes in an order where every input is produced before use. */
    readonly nodes: OpNode[],
    readonly outputs: Tensor[],
    /** Captured eager tensors and variable reads, keyed by their placeholder. */
    readonly placeholders: Map<Tensor, Placeholder>,
    /** Values assigned to variables, applied after a run. */
    readonly updates: VariableUpdate[],
  ) {}

  /**
   * Frees the eager tensors the graph captured (its constants). An executable compiled from
   * the graph owns them and calls this from its own `dispose()`; a second call does nothing.
   * The graph cannot be run, compiled or differentiated afterwards.
   */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    for (const p of this.placeholders.values()) if (p.kind === 'constant') p.value.dispose();
  }

  get isDisposed(): boolean {
    return this.released;
  }

  /** Throws a KerasError naming `what` when the graph was disposed. */
  assertUsable(what: string): void {
    if (this.released) {
      throw new KerasError(
        `${what}: the graph was disposed (an executable compiled from it was disposed, which frees the constants the graph captured); trace the function again`,
      );
    }
  }

  /** Placeholders standing for variables, in a stable order. */
  get variableReads(): { placeholder: Tensor; variable: Variable }[] {
    const out: { placeholder: Tensor; variable: Variable }[] = [];
    for (const [t, p] of this.placeholders) if (p.kind === 'variable') out.push({ placeholder: t, variable: p.variable });
    return out;
  }

  /** A JSON description for debugging and for native executors. */
  toJSON(): GraphJSON {
    const spec = (t: Tensor) => ({ id: t.id, shape: t.shape as Dim[], dtype: t.dtype });
    const placeholders: GraphJSON['placeholders'] = [];
    for (const [t, p] of this.placeholders) {
      if (p.kind === 'input') placeholders.push({ ...spec(t), kind: 'input', index: p.index });
      else if (p.kind === 'variable') placeholders.push({ ...spec(t), kind: 'variable', name: p.variable.name });
      else {
        const small = p.value.size <= 16 ? Array.from(p.value.values()) : undefined;
        placeholders.push({ ...spec(t), kind: 'constant', values: small });
      }
    }
    return {
      inputs: this.inputs.map((t) => t.id),
      placeholders,
      nodes: this.nodes.map((n) => ({
        op: n.op.name,
        inputs: n.inputs.map((t) => t.id),
        outputs: n.outputs.map(spec),
        attrs: n.attrs,
      })),
      outputs: this.outputs.map((t) => t.id),
      updates: this.updates.map((u) => ({ variable: u.variable.name, value: u.value.id })),
    };
  }
}

export interface GraphJSON {
  inputs: number[];
  placeholders: ({ id: number; shape: Dim[]; dtype: DType } & (
    | { kind: 'input'; index: number }
    | { kind: 'variable'; name: string }
    | { kind: 'constant'; values?: number[] }
  ))[];
  nodes: { op: string; inputs: number[]; outputs: { id: number; shape: Dim[]; dtype: DType }[]; attrs: Record<string, unknown> }[];
  outputs: number[];
  updates: { variable: string; value: number }[];
}
