/**
 * The graph of layer calls behind a functional model: built by walking back from
 * the outputs through the layer calls (and raw ops) recorded on symbolic tensors,
 * run by calling each layer again on real tensors in topological order.
 */
import { KerasError, ValueError, fmtShape } from '../errors.js';
import { runOp } from '../engine.js';
import { kerasHistory, type Layer, type LayerNode } from '../layers/layer.js';
import type { Tensor, OpNode } from '../tensor.js';
import { InputLayer } from './input.js';

/** Inputs or outputs of a model: one tensor, a list, or named tensors. */
export type TensorStructure = Tensor | Tensor[] | Record<string, Tensor>;

export function flattenStructure(s: TensorStructure): Tensor[] {
  if (Array.isArray(s)) return s;
  if (isTensorLikeObject(s)) return [s as Tensor];
  return Object.values(s);
}

function isTensorLikeObject(s: unknown): boolean {
  return !!s && typeof s === 'object' && 'shape' in (s as object) && 'dtype' in (s as object);
}

/** Names of a structure's entries: dict keys, or the producing layers' names. */
export function structureNames(s: TensorStructure): string[] {
  if (!Array.isArray(s) && !isTensorLikeObject(s)) return Object.keys(s);
  return flattenStructure(s).map((t, i) => kerasHistory(t)?.node.layer.name ?? `output_${i}`);
}

type Step = { kind: 'layer'; node: LayerNode } | { kind: 'op'; node: OpNode };

export class FunctionalGraph {
  readonly inputs: Tensor[];
  readonly outputs: Tensor[];
  readonly steps: Step[] = [];
  /** Layers in call order, inputs first, each once. */
  readonly layers: Layer[] = [];

  constructor(
    readonly inputStructure: TensorStructure,
    readonly outputStructure: TensorStructure,
    modelName: string,
  ) {
    this.inputs = flattenStructure(inputStructure);
    this.outputs = flattenStructure(outputStructure);
    this.inputs.forEach((t, i) => {
      if (!t.isSymbolic || !(kerasHistory(t)?.node.layer instanceof InputLayer)) {
        throw new ValueError(`Model "${modelName}": input ${i} must be a tensor from keras.Input, received ${t.isSymbolic ? 'a symbolic tensor from a layer' : 'a concrete tensor'} of shape ${fmtShape(t.shape)}`);
      }
    });
    const inputSet = new Set(this.inputs);
    const visited = new Set<unknown>();
    const visiting = new Set<unknown>();
    for (const input of this.inputs) this.addLayer(kerasHistory(input)!.node.layer);
    const visitTensor = (t: Tensor): void => {
      if (inputSet.has(t) || !t.isSymbolic) return;
      const h = kerasHistory(t);
      if (h && h.node.layer instanceof InputLayer) {
        throw new ValueError(`Graph disconnected: cannot obtain value for tensor ${fmtShape(t.shape)} at layer "${h.node.layer.name}": it is not one of the model's inputs`);
      }
      const key: unknown = h ? h.node : t.node;
      if (!key) throw new ValueError(`Graph disconnected: symbolic tensor ${fmtShape(t.shape)} was not produced by a layer or op from the model's inputs`);
      if (visited.has(key)) return;
      if (visiting.has(key)) throw new KerasError('functional graph has a cycle');
      visiting.add(key);
      const ins = h ? h.node.inputs : t.node!.inputs;
      for (const x of ins) visitTensor(x);
      visiting.delete(key);
      visited.add(key);
      if (h) {
        this.steps.push({ kind: 'layer', node: h.node });
        this.addLayer(h.node.layer);
      } else this.steps.push({ kind: 'op', node: t.node! });
    };
    for (const o of this.outputs) visitTensor(o);
  }

  private addLayer(layer: Layer): void {
    if (!this.layers.includes(layer)) this.layers.push(layer);
  }

  /** Runs the graph on real inputs (flattened in `inputs` order). */
  run(inputs: Tensor[], training: boolean): Tensor[] {
    if (inputs.length !== this.inputs.length) throw new ValueError(`functional model expects ${this.inputs.length} inputs, received ${inputs.length}`);
    const env = new Map<Tensor, Tensor>();
    this.inputs.forEach((sym, i) => env.set(sym, inputs[i]));
    const get = (t: Tensor): Tensor => (t.isSymbolic ? env.get(t) ?? missing(t) : t);
    for (const step of this.steps) {
      if (step.kind === 'layer') {
        const { layer, single, options } = step.node;
        const ins = step.node.inputs.map(get);
        const out = layer.apply(single ? ins[0] : ins, { ...options, training });
        const outs = Array.isArray(out) ? out : [out];
        step.node.outputs.forEach((sym, i) => env.set(sym, outs[i]));
      } else {
        const outs = runOp(step.node.op.name, step.node.inputs.map(get), step.node.attrs);
        step.node.outputs.forEach((sym, i) => env.set(sym, outs[i]));
      }
    }
    return this.outputs.map(get);
  }
}

function missing(t: Tensor): never {
  throw new KerasError(`functional model: no value computed for tensor ${fmtShape(t.shape)}`);
}
