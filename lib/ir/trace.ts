/**
 * keras.trace: runs a function on symbolic tensors and records a Graph, computing
 * no values. Shape errors surface here, naming the op and shapes.
 */
import { parseDType, type DType } from '../dtype.js';
import { KerasError, ShapeError, fmtShape } from '../errors.js';
import { eagerly, keep, popTrace, pushTrace, tidy, type TraceContext } from '../engine.js';
import type { Dim } from '../shape.js';
import { Tensor, type OpNode } from '../tensor.js';
import { Variable, variableOf, type VariableTraceHooks } from '../variable.js';
import { Graph, type Placeholder, type VariableUpdate } from './graph.js';

/** Shape and dtype of a traced input; `null` dims (the batch) stay unknown. */
export interface InputSpec {
  shape: Dim[];
  dtype?: DType;
  name?: string;
}

class Recording implements TraceContext, VariableTraceHooks {
  readonly placeholders = new Map<Tensor, Placeholder>();
  private readonly constants = new Map<Tensor, Tensor>();
  private readonly variableValues = new Map<Variable, Tensor>();
  readonly assigned = new Map<Variable, Tensor>();

  constructor(readonly inference: boolean) {}

  capture(t: Tensor): Tensor {
    const v = variableOf(t);
    if (v && v.concreteValue === t) return this.readVariable(v);
    let p = this.constants.get(t);
    if (!p) {
      // The graph owns its own handle on the storage, so disposing the original is safe.
      const value = eagerly(() => keep(new Tensor({ shape: t.shape, dtype: t.dtype, backend: t.backend, storage: t.storage })));
      p = new Tensor({ shape: t.shape, dtype: t.dtype, symbolicSource: 'constant' });
      this.placeholders.set(p, { kind: 'constant', value });
      this.constants.set(t, p);
    }
    return p;
  }

  readVariable(v: Variable): Tensor {
    let t = this.variableValues.get(v);
    if (!t) {
      t = new Tensor({ shape: v.shape, dtype: v.dtype, symbolicSource: v });
      this.placeholders.set(t, { kind: 'variable', variable: v });
      this.variableValues.set(v, t);
    }
    return t;
  }

  assignVariable(v: Variable, value: Tensor): void {
    const sym = value.isSymbolic ? value : this.capture(value);
    this.variableValues.set(v, sym);
    this.assigned.set(v, sym);
  }
}

type TraceOutput = Tensor | TraceOutput[] | { [k: string]: TraceOutput } | null | undefined;

function flattenOutputs(out: unknown, into: Tensor[]): void {
  if (out instanceof Tensor) into.push(out);
  else if (out instanceof Variable) into.push(out.value);
  else if (Array.isArray(out)) for (const o of out) flattenOutputs(o, into);
  else if (out && typeof out === 'object') for (const o of Object.values(out)) flattenOutputs(o, into);
  else if (out !== null && out !== undefined) throw new KerasError(`trace: fn returned ${typeof out}; return tensors or arrays/objects of tensors`);
}

/** Nodes reachable backwards from `roots`, in topological order. */
export function collectNodes(roots: readonly Tensor[]): OpNode[] {
  const order: OpNode[] = [];
  const seen = new Set<OpNode>();
  const stack: { node: OpNode; expanded: boolean }[] = [];
  for (const r of roots) if (r.node) stack.push({ node: r.node, expanded: false });
  while (stack.length) {
    const top = stack.pop()!;
    if (seen.has(top.node) && !top.expanded) continue;
    if (top.expanded) {
      order.push(top.node);
      continue;
    }
    seen.add(top.node);
    stack.push({ node: top.node, expanded: true });
    for (const t of top.node.inputs) if (t.node && !seen.has(t.node)) stack.push({ node: t.node, expanded: false });
  }
  return order;
}

/** Options of {@link trace}. */
export interface TraceOptions {
  /**
   * The graph will only be run, never differentiated (a predict or test step): layers then
   * record no more than inference needs (LSTM and GRU keep no activations for a gradient), and
   * differentiating the graph raises a GradientError. Default false.
   */
  inference?: boolean;
}

/**
 * Records `fn` applied to symbolic inputs described by `specs`, as a Graph.
 * Variables read inside become graph inputs; `assign` on them becomes a graph update.
 */
export function trace(fn: (...inputs: Tensor[]) => TraceOutput, specs: InputSpec[], options: TraceOptions = {}): Graph {
  const rec = new Recording(options.inference === true);
  const inputs = specs.map((s, i) => {
    if (!Array.isArray(s.shape) || s.shape.some((d) => d !== null && (!Number.isInteger(d) || d < 0))) {
      throw new ShapeError(`trace: input ${i} has an invalid shape ${JSON.stringify(s.shape)}; use non-negative integers or null`);
    }
    const t = new Tensor({ shape: [...s.shape] as number[], dtype: parseDType(s.dtype ?? 'float32', `trace input ${i}`), symbolicSource: s.name ?? `input_${i}` });
    rec.placeholders.set(t, { kind: 'input', index: i });
    return t;
  });
  pushTrace(rec);
  let out: unknown;
  try {
    // Eager tensors made while tracing (JS numbers turned into tensors) are captured as
    // graph-owned copies; the originals are garbage, so free them now.
    out = tidy(() => fn(...inputs));
  } finally {
    popTrace(rec);
  }
  const outputs: Tensor[] = [];
  flattenOutputs(out, outputs);
  for (const o of outputs) {
    if (!o.isSymbolic) throw new KerasError(`trace: output of shape ${fmtShape(o.shape)} is not symbolic`);
  }
  const updates: VariableUpdate[] = [...rec.assigned].map(([variable, value]) => ({ variable, value }));
  const nodes = collectNodes([...outputs, ...updates.map((u) => u.value)]);
  const used = new Set<Tensor>([...outputs, ...updates.map((u) => u.value)]);
  for (const n of nodes) for (const t of n.inputs) used.add(t);
  for (const [t, p] of rec.placeholders) {
    if (p.kind === 'input' || used.has(t)) continue;
    if (p.kind === 'constant') p.value.dispose();
    rec.placeholders.delete(t);
  }
  return new Graph(inputs, nodes, outputs, rec.placeholders, updates);
}
