/**
 * Reverse-mode autodiff over recorded op calls. The same code differentiates an
 * eager tape and a symbolic trace: gradient rules are ops, so inside a trace they
 * record graph nodes ("a graph differentiated into a graph").
 */
import { isFloat } from '../dtype.js';
import { GradientError, KerasError, fmtShape } from '../errors.js';
import { popRecorder, pushRecorder, run1, tidy, type OpRecorder } from '../engine.js';
import type { MergeableGrad } from '../ops/registry.js';
import type { Tensor, OpNode } from '../tensor.js';
import { Variable, variableOf } from '../variable.js';

export class GradientTape implements OpRecorder {
  private readonly nodes: OpNode[] = [];
  private readonly tracked = new Set<number>();
  private readonly pinned: Tensor[] = [];
  private active = false;
  private disposed = false;

  /**
   * @param options.watchAccessedVariables watch trainable variables automatically (default true), as tf.GradientTape.
   * @param options.persistent allow several `gradient` calls (default false: resources freed after the first).
   */
  constructor(private readonly options: { watchAccessedVariables?: boolean; persistent?: boolean } = {}) {}

  /** Marks tensors or variables as sources to differentiate with respect to. */
  watch(...items: (Tensor | Variable)[]): void {
    for (const item of items) this.tracked.add((item instanceof Variable ? item.value : item).id);
  }

  /** Records every op run inside `fn`. */
  record<T>(fn: () => T): T {
    if (this.disposed) throw new KerasError('GradientTape: the tape was already used; create a new one or pass persistent: true');
    pushRecorder(this);
    this.active = true;
    try {
      return fn();
    } finally {
      this.active = false;
      popRecorder(this);
    }
  }

  /** @internal OpRecorder. */
  onOp(node: OpNode): void {
    const op = node.op;
    if (!op.grad && !op.gradientUnsupported) return;
    let flows = false;
    node.inputs.forEach((t, i) => {
      if (op.nonDifferentiableInputs?.includes(i)) return;
      if (this.tracked.has(t.id)) flows = true;
      else if (this.options.watchAccessedVariables !== false && isFloat(t.dtype)) {
        const v = variableOf(t);
        if (v && v.trainable) {
          this.tracked.add(t.id);
          flows = true;
        }
      }
    });
    if (!flows) return;
    this.nodes.push(node);
    for (const o of node.outputs) if (isFloat(o.dtype)) this.tracked.add(o.id);
    for (const t of [...node.inputs, ...node.outputs]) {
      if (!t.isSymbolic) {
        t.pin();
        this.pinned.push(t);
      }
    }
  }

  /**
   * Gradients of `target` (summed, if not scalar, as with an all-ones upstream gradient)
   * with respect to each source. Sources the target does not depend on get zeros.
   */
  gradient(target: Tensor, sources: (Tensor | Variable)[], outputGradient?: Tensor): Tensor[] {
    if (this.disposed) throw new KerasError('GradientTape.gradient: a non-persistent tape can be used once');
    if (this.active) throw new KerasError('GradientTape.gradient: called while still recording; call it after record() returns');
    if (!isFloat(target.dtype)) {
      throw new GradientError(`gradient: the target has dtype ${target.dtype}; integer and bool outputs have no gradient`);
    }
    const sourceTensors = sources.map((s) => (s instanceof Variable ? s.value : s));
    sourceTensors.forEach((s, i) => {
      if (!isFloat(s.dtype)) throw new GradientError(`gradient: source ${i} has dtype ${s.dtype} ${fmtShape(s.shape)}; only float tensors have gradients`);
    });
    const grads = backprop(this.nodes, target, this.tracked, outputGradient ?? run1('fullLike', [target], { value: 1 }), new Set(sourceTensors.map((s) => s.id)));
    const result = sourceTensors.map((s) => grads.get(s.id) ?? run1('fullLike', [s], { value: 0 }));
    if (!this.options.persistent) this.dispose();
    return result;
  }

  /** Releases the tensors the tape kept alive. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.pinned) t.unpin();
    this.pinned.length = 0;
    this.nodes.length = 0;
  }
}

/** Whether a gradient rule's entry is a contribution to merge (MergeableGrad) rather than a tensor. */
function isMergeable(g: Tensor | MergeableGrad): g is MergeableGrad {
  return 'make' in g;
}

/** A merged gradient through `make` (or `single`): each part's contributions concatenated along its axis. */
function madeFromParts(first: MergeableGrad, parts: Tensor[][]): Tensor {
  const joined = parts.map((ts, k) => (ts.length === 1 ? ts[0]! : run1('concatenate', ts, { axis: first.axes[k] })));
  return parts[0]!.length === 1 && first.single ? first.single(joined) : first.make(joined);
}

/**
 * The merged gradient when several contributions' static runs (MergeableGrad.run) tile their
 * rows exactly: their parts concatenated in row order. Null otherwise (make then scatters them).
 */
function tiledRuns(parts: Tensor[][], runs: (MergeableGrad['run'] | undefined)[], axes: number[]): Tensor | null {
  const first = runs[0];
  if (runs.length < 2 || !first || runs.some((r) => !r || r.part !== first.part || r.total !== first.total)) return null;
  const axis = axes[first.part]!;
  const values = parts[first.part]!;
  const order = runs.map((_, i) => i).sort((a, b) => runs[a]!.start - runs[b]!.start);
  let next = 0;
  for (const i of order) {
    const rows = values[i]!.shape[axis];
    if (runs[i]!.start !== next || rows === null || rows === undefined) return null;
    next += rows;
  }
  if (next !== first.total) return null;
  return run1('concatenate', order.map((i) => values[i]!), { axis });
}

/**
 * Accumulates gradients from `target` back through `nodes` (in recorded order). Returns grads by
 * tensor id: those of `keep` (the sources) and of tracked tensors no node produced.
 *
 * Tensors made here (ids above every recorded one) belong to nobody else, so each is freed as
 * soon as no gradient entry holds it: a rule's temporaries when the rule returns, an output's
 * gradient once its node is done. The backward then needs about as much memory as the forward,
 * and its buffers come back from the allocator's cache instead of fresh pages (faulting in 64 MiB
 * of new pages costs more than the arithmetic on it).
 *
 * Gathers, slices along one axis, 2-D matmuls and adds of a bias row give mergeable gradients
 * (OpDef.mergeableGrad): all rows a tensor receives along one axis become a single scatterAdd of
 * their concatenation (or the concatenation itself, when slices tile the axis), all A^T dY of one
 * weight a single matmul, and all of a bias's rows one sum, made when that gradient is first read. An LSTM
 * over T timesteps used to scatter T zero-filled copies of its projected inputs and add them
 * pairwise (O(T^2) memory traffic); its train step (T = 50, 128 units) went from 42-46 to 19-20
 * ms on a Zen 4, and the gradient of a 128-way unstack from 102-114 to 4-5 ms.
 */
export function backprop(nodes: readonly OpNode[], target: Tensor, tracked: ReadonlySet<number>, seed: Tensor, keep: ReadonlySet<number> = new Set()): Map<number, Tensor> {
  let lastOutside = seed.id;
  for (const node of nodes) for (const o of node.outputs) if (o.id > lastOutside) lastOutside = o.id;
  const grads = new Map<number, Tensor>();
  const holders = new Map<Tensor, number>(); // entries of grads holding each tensor (rules may return one tensor twice)
  const hold = (id: number, g: Tensor) => {
    grads.set(id, g);
    holders.set(g, (holders.get(g) ?? 0) + 1);
  };
  const release = (g: Tensor) => {
    const n = (holders.get(g) ?? 0) - 1;
    if (n > 0) holders.set(g, n);
    else {
      holders.delete(g);
      if (g.id > lastOutside) g.dispose();
    }
  };
  // Mergeable contributions (OpDef.mergeableGrad) waiting to become one tensor's gradient:
  // those of one key are made into one op when that gradient is first read (its producer's
  // turn, or the end), plus the dense gradient accumulated beside them.
  const pending = new Map<number, { first: MergeableGrad; parts: Tensor[][]; runs: (MergeableGrad['run'] | undefined)[] }>();
  const addMergeable = (id: number, m: MergeableGrad) => {
    let p = pending.get(id);
    if (p && p.first.key !== m.key) {
      merge(id); // another kind for the same tensor: the earlier ones become dense first
      p = undefined;
    }
    if (!p) pending.set(id, (p = { first: m, parts: m.parts.map(() => []), runs: [] }));
    m.parts.forEach((t, k) => {
      p.parts[k]!.push(t);
      holders.set(t, (holders.get(t) ?? 0) + 1);
    });
    p.runs.push(m.run);
  };
  const merge = (id: number) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    const prev = grads.get(id);
    // Contributions arrive in reverse recorded order; joined in forward order, an RNN's
    // timesteps' gradients concatenate for its recurrent kernel's merged product as for its
    // input slices, and the native executor keeps one concatenation (lib/backends/cpu/executor.ts).
    const parts = p.parts.map((ts) => ts.slice().reverse());
    const runs = p.runs.slice().reverse();
    const g = tidy(() => {
      const made = tiledRuns(parts, runs, p.first.axes) ?? madeFromParts(p.first, parts);
      return prev ? run1('add', [prev, made]) : made;
    });
    hold(id, g);
    if (prev) release(prev);
    for (const ts of p.parts) for (const t of ts) release(t);
  };
  hold(target.id, seed);
  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n];
    for (const o of node.outputs) merge(o.id);
    let any = false;
    const dys = node.outputs.map((o) => {
      const g = grads.get(o.id) ?? null;
      if (g) any = true;
      return g;
    });
    if (!any) continue;
    const needs = node.inputs.map((x) => tracked.has(x.id));
    const ctx = { inputs: node.inputs, outputs: node.outputs, attrs: node.attrs, needs };
    const wanted = (x: Tensor, i: number) => tracked.has(x.id) && !node.op.nonDifferentiableInputs?.includes(i) && isFloat(x.dtype);
    const mergeable = node.op.mergeableGrad;
    const parts = mergeable ? tidy(() => mergeable(ctx, dys)) : [];
    parts.forEach((m, i) => {
      if (m && wanted(node.inputs[i]!, i)) addMergeable(node.inputs[i]!.id, m);
    });
    // The dense rule for the inputs left (every input of an op without mergeable gradients).
    const denseNeeds = needs.map((need, i) => need && !parts[i]);
    if (denseNeeds.some((need, i) => need && wanted(node.inputs[i]!, i))) {
      if (!node.op.grad) throw new GradientError(`${node.op.name}: ${node.op.gradientUnsupported}`);
      const grad = node.op.grad;
      const dxs = tidy(() => grad({ ...ctx, needs: denseNeeds }, dys));
      node.inputs.forEach((x, i) => {
        const dx = dxs[i];
        if (!dx || !denseNeeds[i] || !wanted(x, i)) return;
        if (isMergeable(dx)) {
          addMergeable(x.id, dx);
          return;
        }
        if (dx.shape.length !== x.shape.length || dx.shape.some((d, k) => d !== x.shape[k] && d !== null && x.shape[k] !== null)) {
          throw new KerasError(`internal: gradient of ${node.op.name} input ${i} has shape ${fmtShape(dx.shape)}, expected ${fmtShape(x.shape)}`);
        }
        const prev = grads.get(x.id);
        if (prev) {
          hold(x.id, run1('add', [prev, dx]));
          release(prev);
        } else hold(x.id, dx);
      });
      for (const dx of dxs) {
        for (const t of !dx ? [] : isMergeable(dx) ? dx.parts : [dx]) if (!holders.has(t) && t.id > lastOutside) t.dispose();
      }
    }
    for (const m of parts) for (const t of m?.parts ?? []) if (!holders.has(t) && t.id > lastOutside) t.dispose();
    for (const o of node.outputs) {
      const g = grads.get(o.id);
      if (!g || keep.has(o.id)) continue;
      grads.delete(o.id);
      release(g);
    }
  }
  for (const id of [...pending.keys()]) merge(id);
  return grads;
}
