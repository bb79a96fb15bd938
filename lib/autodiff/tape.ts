/**
 * Reverse-mode autodiff over recorded op calls. The same code differentiates an
 * eager tape and a symbolic trace: gradient rules are ops, so inside a trace they
 * record graph nodes ("a graph differentiated into a graph").
 */
import { isFloat } from '../dtype.js';
import { GradientError, KerasError, fmtShape } from '../errors.js';
import { popRecorder, pushRecorder, run1, type OpRecorder } from '../engine.js';
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
    const grads = backprop(this.nodes, target, this.tracked, outputGradient ?? run1('fullLike', [target], { value: 1 }));
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

/** Accumulates gradients from `target` back through `nodes` (in recorded order). Returns grads by tensor id. */
export function backprop(nodes: readonly OpNode[], target: Tensor, tracked: ReadonlySet<number>, seed: Tensor): Map<number, Tensor> {
  const grads = new Map<number, Tensor>();
  grads.set(target.id, seed);
  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n];
    let any = false;
    const dys = node.outputs.map((o) => {
      const g = grads.get(o.id) ?? null;
      if (g) any = true;
      return g;
    });
    if (!any) continue;
    const needs = node.inputs.map((x) => tracked.has(x.id));
    if (!node.op.grad) throw new GradientError(`${node.op.name}: ${node.op.gradientUnsupported}`);
    const dxs = node.op.grad({ inputs: node.inputs, outputs: node.outputs, attrs: node.attrs, needs }, dys);
    node.inputs.forEach((x, i) => {
      const dx = dxs[i];
      if (!dx || !tracked.has(x.id) || node.op.nonDifferentiableInputs?.includes(i) || !isFloat(x.dtype)) return;
      if (dx.shape.length !== x.shape.length || dx.shape.some((d, k) => d !== x.shape[k] && d !== null && x.shape[k] !== null)) {
        throw new KerasError(`internal: gradient of ${node.op.name} input ${i} has shape ${fmtShape(dx.shape)}, expected ${fmtShape(x.shape)}`);
      }
      const prev = grads.get(x.id);
      grads.set(x.id, prev ? run1('add', [prev, dx]) : dx);
    });
  }
  return grads;
}
