/**
 * Runs a Graph node by node through the dispatcher: on concrete feeds this is the
 * reference executor every backend can use; inside a trace it replays the graph
 * symbolically, which is how a graph is differentiated into a graph.
 */
import { KerasError, ShapeError, fmtShape } from '../errors.js';
import { runOp } from '../engine.js';
import type { Backend, Executable } from '../backends/backend.js';
import { Tensor } from '../tensor.js';
import { GradientTape } from '../autodiff/tape.js';
import type { Graph } from './graph.js';
import { trace } from './trace.js';

function checkFeeds(graph: Graph, feeds: readonly Tensor[]): void {
  if (feeds.length !== graph.inputs.length) {
    throw new KerasError(`graph expects ${graph.inputs.length} inputs, received ${feeds.length}`);
  }
  feeds.forEach((f, i) => {
    const spec = graph.inputs[i];
    const ok = f.shape.length === spec.shape.length && spec.shape.every((d, k) => d === null || d === f.shape[k]);
    if (!ok) throw new ShapeError(`graph input ${i}: expected shape ${fmtShape(spec.shape)}, received ${fmtShape(f.shape)}`);
    if (f.dtype !== spec.dtype) throw new ShapeError(`graph input ${i}: expected dtype ${spec.dtype}, received ${f.dtype}`);
  });
}

/**
 * Evaluates `graph` on `feeds`. Returns the outputs and, separately, the new values of
 * updated variables (not yet assigned, so the caller decides when state changes).
 */
export function evaluateGraph(graph: Graph, feeds: readonly Tensor[], backend?: Backend): { outputs: Tensor[]; updates: Tensor[] } {
  graph.assertUsable('graph run');
  checkFeeds(graph, feeds);
  const env = new Map<Tensor, Tensor>();
  for (const [t, p] of graph.placeholders) {
    if (p.kind === 'input') env.set(t, feeds[p.index]);
    else if (p.kind === 'constant') env.set(t, p.value);
    else env.set(t, p.variable.value);
  }
  // Last use of each intermediate, so it can be freed as soon as possible.
  const lastUse = new Map<Tensor, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((t) => lastUse.set(t, i)));
  const results = new Set<Tensor>([...graph.outputs, ...graph.updates.map((u) => u.value)]);
  const produced = new Set<Tensor>();
  graph.nodes.forEach((node, i) => {
    const ins = node.inputs.map((t) => {
      const v = env.get(t);
      if (!v) throw new KerasError(`graph: ${node.op.name} reads a value that was never produced`);
      return v;
    });
    const outs = runOp(node.op.name, ins, node.attrs, backend);
    node.outputs.forEach((o, k) => {
      env.set(o, outs[k]);
      produced.add(o);
    });
    for (const t of node.inputs) {
      if (lastUse.get(t) === i && produced.has(t) && !results.has(t)) {
        const v = env.get(t)!;
        if (!v.isSymbolic) v.dispose();
      }
    }
    node.outputs.forEach((o) => {
      if (!lastUse.has(o) && !results.has(o)) {
        const v = env.get(o)!;
        if (!v.isSymbolic) v.dispose();
      }
    });
  });
  const get = (t: Tensor) => {
    const v = env.get(t);
    if (!v) throw new KerasError('graph: an output was never produced');
    return v;
  };
  return { outputs: graph.outputs.map(get), updates: graph.updates.map((u) => get(u.value)) };
}

/** Runs the graph and applies its variable updates. */
export function runGraph(graph: Graph, feeds: readonly Tensor[], backend?: Backend): Tensor[] {
  const { outputs, updates } = evaluateGraph(graph, feeds, backend);
  graph.updates.forEach((u, i) => {
    u.variable.assign(updates[i]);
    if (!updates[i].isSymbolic && !outputs.includes(updates[i])) updates[i].dispose();
  });
  return outputs;
}

/** The executable every backend can fall back on: the graph interpreted op by op. */
export function interpretedExecutable(graph: Graph, backend: Backend): Executable {
  graph.assertUsable(`${backend.name}: compile`);
  const runSync = (feeds: Tensor[]) => {
    const outputs = runGraph(graph, feeds, backend);
    return outputs;
  };
  return {
    runSync,
    run: async (feeds: Tensor[]) => runSync(feeds),
    dispose: () => graph.dispose(),
  };
}

/**
 * Reverse-mode differentiation of a graph into a graph: the result computes the original
 * outputs followed by the gradient of output `output` (summed if not scalar) with respect
 * to each input in `wrt` and each variable read in `wrtVariables`.
 */
export function differentiateGraph(
  graph: Graph,
  options: { output?: number; wrt?: number[]; wrtVariables?: boolean } = {},
): Graph {
  graph.assertUsable('differentiate');
  const outIndex = options.output ?? 0;
  if (outIndex < 0 || outIndex >= graph.outputs.length) throw new KerasError(`differentiate: output ${outIndex} does not exist`);
  const wrt = options.wrt ?? graph.inputs.map((_, i) => i);
  const variables = options.wrtVariables ? graph.variableReads.map((r) => r.variable).filter((v) => v.trainable) : [];
  return trace(
    (...inputs: Tensor[]) => {
      const tape = new GradientTape({ watchAccessedVariables: false });
      tape.watch(...wrt.map((i) => inputs[i]), ...variables);
      const { outputs } = tape.record(() => evaluateGraph(graph, inputs));
      const grads = tape.gradient(outputs[outIndex], [...wrt.map((i) => inputs[i]), ...variables]);
      return [...outputs, ...grads];
    },
    graph.inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })),
  );
}
