/**
 * keras.Model: functional (`new Model({inputs, outputs})`), subclassed
 * (`class M extends Model { call(...) }`) and the base of Sequential. Training
 * methods (compile, fit, evaluate, predict) live in trainer.ts.
 */
import { KerasError, ValueError } from '../errors.js';
import { Layer, kerasHistory, type CallOptions, type LayerArgs, type LayerInputs, type LayerOutputs } from '../layers/layer.js';
import type { TensorLike } from '../ops/common.js';
import type { Tensor } from '../tensor.js';
import { FunctionalGraph, flattenStructure, structureNames, type TensorStructure } from './functional.js';
import { InputLayer } from './input.js';
import { Trainer } from './trainer.js';
import { summaryTable } from './summary.js';
import { layerFromConfig, registerLayerClass } from '../layers/registry.js';

export interface ModelArgs extends LayerArgs {
  inputs?: TensorStructure;
  outputs?: TensorStructure;
}

export class Model extends Trainer {
  /** The functional graph, for models built from keras.Input. */
  protected graph: FunctionalGraph | null = null;

  constructor(args: ModelArgs = {}) {
    const { inputs, outputs, ...rest } = args;
    super(rest);
    if (inputs !== undefined || outputs !== undefined) {
      if (inputs === undefined || outputs === undefined) throw new ValueError(`Model "${this.name}": pass both inputs and outputs for a functional model`);
      this.graph = new FunctionalGraph(inputs, outputs, this.name);
      this.built = true;
    }
  }

  /** True for models built from keras.Input tensors. */
  get isFunctional(): boolean {
    return this.graph !== null;
  }

  override get layers(): Layer[] {
    if (this.graph) return this.graph.layers;
    return super.layers;
  }

  /** Symbolic inputs of a functional model. */
  get inputs(): Tensor[] {
    if (!this.graph) throw new KerasError(`Model "${this.name}" has no symbolic inputs (it is not functional)`);
    return this.graph.inputs;
  }

  /** Symbolic outputs of a functional model. */
  get outputs(): Tensor[] {
    if (!this.graph) throw new KerasError(`Model "${this.name}" has no symbolic outputs (it is not functional)`);
    return this.graph.outputs;
  }

  /** Output names (for multi-output losses and logs). */
  override get outputNames(): string[] {
    return this.graph ? structureNames(this.graph.outputStructure) : ['output'];
  }

  /** Input names of a functional model. */
  get inputNames(): string[] {
    return this.graph ? structureNames(this.graph.inputStructure) : ['input'];
  }

  override call(inputs: LayerInputs | Record<string, Tensor>, options: CallOptions = {}): LayerOutputs {
    if (!this.graph) {
      throw new KerasError(`Model "${this.name}": a subclassed model must implement call(inputs, { training }); a functional model is built with new Model({ inputs, outputs })`);
    }
    const flat = this.flattenInputs(inputs);
    const outs = this.graph.run(flat, options.training ?? false);
    const s = this.graph.outputStructure;
    if (Array.isArray(s)) return outs;
    if (flattenStructure(s).length === 1 && 'shape' in (s as object)) return outs[0];
    return Object.fromEntries(Object.keys(s).map((k, i) => [k, outs[i]])) as unknown as LayerOutputs;
  }

  /** Orders user inputs (a tensor, a list, or a dict by input name) as the graph's inputs. */
  protected flattenInputs(inputs: LayerInputs | Record<string, Tensor>): Tensor[] {
    const graph = this.graph!;
    const s = graph.inputStructure;
    if (!Array.isArray(s) && !('shape' in (s as object))) {
      if (Array.isArray(inputs) || 'shape' in (inputs as object)) {
        if (Array.isArray(inputs) && inputs.length === graph.inputs.length) return inputs;
        throw new ValueError(`Model "${this.name}" expects a dict of inputs with keys ${Object.keys(s).join(', ')}`);
      }
      return Object.keys(s).map((k) => {
        const v = (inputs as Record<string, Tensor>)[k];
        if (!v) throw new ValueError(`Model "${this.name}": missing input "${k}"; received keys ${Object.keys(inputs).join(', ')}`);
        return v;
      });
    }
    const list = Array.isArray(inputs) ? inputs : [inputs as Tensor];
    if (list.length !== graph.inputs.length) {
      throw new ValueError(`Model "${this.name}" expects ${graph.inputs.length} input(s), received ${list.length}`);
    }
    return list;
  }

  override apply(inputs: TensorLike | TensorLike[] | Record<string, TensorLike>, options: CallOptions = {}): LayerOutputs {
    if (inputs && typeof inputs === 'object' && !Array.isArray(inputs) && !ArrayBuffer.isView(inputs) && !('shape' in inputs) && this.graph) {
      const names = Object.keys(inputs);
      const ordered = this.inputNames.map((n) => {
        if (!names.includes(n)) throw new ValueError(`Model "${this.name}": missing input "${n}"; received keys ${names.join(', ')}`);
        return (inputs as Record<string, TensorLike>)[n];
      });
      return super.apply(ordered.length === 1 ? ordered[0] : ordered, options);
    }
    return super.apply(inputs as TensorLike | TensorLike[], options);
  }

  /** Prints (or returns via `printFn`) Keras' summary table. */
  summary(options: { printFn?: (line: string) => void; lineLength?: number } = {}): string {
    const text = summaryTable(this, options.lineLength);
    (options.printFn ?? console.log)(text);
    return text;
  }

  override getConfig(): Record<string, unknown> {
    if (!this.graph) return super.getConfig();
    return functionalConfig(this, this.graph);
  }

  /** Rebuilds a functional model (or a Model subclass from its constructor args). */
  static override fromConfig<T extends Layer>(this: new (...args: any[]) => T, config: Record<string, unknown>): T {
    if (Array.isArray((config as { layers?: unknown }).layers) && 'inputLayers' in config) return functionalFromConfig(config) as unknown as T;
    return new this(config);
  }

  /** Layers in the order Keras lists them (functional: graph order, inputs included). */
  get summaryLayers(): Layer[] {
    return this.layers;
  }
}

// ---------------------------------------------------------------- functional configs

interface NodeRef {
  layer: string;
  node: number;
  tensor: number;
}

function refOf(t: Tensor): NodeRef {
  const h = kerasHistory(t)!;
  return { layer: h.node.layer.name, node: h.node.layer.inboundNodes.indexOf(h.node), tensor: h.index };
}

function functionalConfig(model: Model, graph: FunctionalGraph): Record<string, unknown> {
  if (graph.steps.some((s) => s.kind === 'op')) {
    throw new KerasError(`Model "${model.name}": getConfig is not supported for functional models that call raw ops between layers; wrap them in a Lambda layer`);
  }
  const layers = graph.layers.map((layer) => {
    const inbound = graph.steps
      .filter((s) => s.kind === 'layer' && s.node.layer === layer)
      .map((s) => (s.kind === 'layer' ? { single: s.node.single, args: s.node.inputs.map((t) => refOf(t)), options: s.node.options } : null));
    return { className: layer.className, name: layer.name, config: layer.getConfig(), inboundNodes: inbound };
  });
  const refs = (s: TensorStructure) => {
    if (Array.isArray(s)) return { kind: 'list', refs: s.map((t) => refOf(t)) };
    if ('shape' in (s as object)) return { kind: 'single', refs: [refOf(s as Tensor)] };
    return { kind: 'dict', keys: Object.keys(s), refs: Object.values(s).map((t) => refOf(t)) };
  };
  return { name: model.name, trainable: model.trainable, layers, inputLayers: refs(graph.inputStructure), outputLayers: refs(graph.outputStructure) };
}

type RefStructure = { kind: 'list' | 'single' | 'dict'; keys?: string[]; refs: NodeRef[] };

function functionalFromConfig(config: Record<string, unknown>): Model {
  const layerConfigs = config.layers as { className: string; name: string; config: Record<string, unknown>; inboundNodes: { single: boolean; args: NodeRef[]; options: Record<string, unknown> }[] }[];
  const created = new Map<string, Layer>();
  const produced = new Map<string, Tensor[]>();
  const key = (layer: string, node: number) => `${layer}#${node}`;
  for (const lc of layerConfigs) {
    const layer = lc.className === 'InputLayer' ? new InputLayer(lc.config as never) : layerFromConfig(lc.className, lc.config);
    created.set(lc.name, layer);
    if (layer instanceof InputLayer) produced.set(key(lc.name, 0), [layer.output]);
  }
  // Layers are listed in graph order, so every inbound tensor exists when its consumer is replayed.
  for (const lc of layerConfigs) {
    const layer = created.get(lc.name)!;
    if (layer instanceof InputLayer) continue;
    lc.inboundNodes.forEach((node, i) => {
      const ins = node.args.map((r) => {
        const t = produced.get(key(r.layer, r.node))?.[r.tensor];
        if (!t) throw new ValueError(`fromConfig: layer "${lc.name}" refers to an unknown tensor ${r.layer}[${r.node}][${r.tensor}]`);
        return t;
      });
      const out = layer.apply(node.single ? ins[0] : ins, node.options);
      produced.set(key(lc.name, i), Array.isArray(out) ? out : [out]);
    });
  }
  const resolve = (s: RefStructure): TensorStructure => {
    const ts = s.refs.map((r) => produced.get(key(r.layer, r.node))![r.tensor]);
    if (s.kind === 'single') return ts[0];
    if (s.kind === 'list') return ts;
    return Object.fromEntries(s.keys!.map((k, i) => [k, ts[i]]));
  };
  return new Model({ name: config.name as string, inputs: resolve(config.inputLayers as RefStructure), outputs: resolve(config.outputLayers as RefStructure) });
}

registerLayerClass('Model', Model as never);
registerLayerClass('Functional', Model as never);
