/**
 * keras.Sequential: a linear stack of layers. Built from a declared input shape
 * (an Input first, or `inputShape` on the first layer) or on first call.
 */
import { KerasError, ValueError } from '../errors.js';
import { Layer, type CallOptions, type LayerInputs, type LayerOutputs, type LayerArgs } from '../layers/layer.js';
import { layerFromConfig, registerLayerClass } from '../layers/registry.js';
import type { Dim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { InputLayer } from './input.js';
import { Model } from './model.js';
import { kerasHistory } from '../layers/layer.js';

export class Sequential extends Model {
  private stack: Layer[] = [];
  /** Output shape of each layer from the last symbolic build (for summary). */
  private inputLayer: InputLayer | null = null;

  constructor(layers: (Layer | Tensor)[] = [], args: LayerArgs = {}) {
    super(args);
    for (const l of layers) this.add(l);
  }

  /** Appends a layer (or a keras.Input tensor as the first entry). */
  add(layer: Layer | Tensor): void {
    if (layer instanceof Tensor) {
      const h = kerasHistory(layer);
      if (!h || !(h.node.layer instanceof InputLayer)) throw new ValueError(`Sequential "${this.name}".add: only keras.Input tensors or layers can be added`);
      layer = h.node.layer;
    }
    if (layer instanceof InputLayer) {
      if (this.stack.length || this.inputLayer) throw new ValueError(`Sequential "${this.name}": an Input can only be the first entry`);
      this.inputLayer = layer;
      this.buildSymbolic(layer.batchInputShape!);
      return;
    }
    if (!(layer instanceof Layer)) throw new ValueError(`Sequential "${this.name}".add: expected a Layer, received ${typeof layer}`);
    if (this.stack.includes(layer)) throw new ValueError(`Sequential "${this.name}": layer "${layer.name}" was already added`);
    this.stack.push(layer);
    const declared = this.inputLayer?.batchInputShape ?? this.stack[0].batchInputShape;
    if (declared) this.buildSymbolic(declared);
  }

  /** Removes the last layer. */
  pop(): Layer {
    const layer = this.stack.pop();
    if (!layer) throw new KerasError(`Sequential "${this.name}" has no layers to pop`);
    return layer;
  }

  override get layers(): Layer[] {
    return [...this.stack];
  }

  override get summaryLayers(): Layer[] {
    return this.layers;
  }

  /** Last symbolic output shapes per layer, for summary(). */
  readonly outputShapes = new Map<Layer, Dim[] | Dim[][]>();

  /** Runs the layers on a symbolic input to build weights and record output shapes. */
  private buildSymbolic(batchShape: Dim[]): void {
    let x: LayerOutputs = new Tensor({ shape: [null, ...batchShape.slice(1)] as number[], dtype: this.inputLayer?.output.dtype ?? 'float32', symbolicSource: 'sequential_input' });
    for (const layer of this.stack) {
      x = layer.apply(x);
      this.outputShapes.set(layer, Array.isArray(x) ? x.map((t) => t.shape) : x.shape);
    }
    this.built = true;
  }

  override build(inputShape: Dim[] | Dim[][]): void {
    this.buildSymbolic(inputShape as Dim[]);
  }

  override call(inputs: LayerInputs, options: CallOptions = {}): LayerOutputs {
    if (!this.stack.length) throw new KerasError(`Sequential "${this.name}" has no layers`);
    let x: LayerOutputs = inputs;
    for (const layer of this.stack) x = layer.apply(x, { training: options.training });
    return x;
  }

  override get outputNames(): string[] {
    return ['output'];
  }

  override getConfig(): Record<string, unknown> {
    const layers: { className: string; config: Record<string, unknown> }[] = [];
    if (this.inputLayer) layers.push({ className: 'InputLayer', config: this.inputLayer.getConfig() });
    for (const l of this.stack) layers.push({ className: l.className, config: l.getConfig() });
    return { name: this.name, trainable: this.trainable, layers };
  }

  static override fromConfig<T extends Layer>(this: new (...args: any[]) => T, config: Record<string, unknown>): T {
    const model = new Sequential([], { name: config.name as string });
    for (const { className, config: c } of config.layers as { className: string; config: Record<string, unknown> }[]) {
      model.add(className === 'InputLayer' ? new InputLayer(c as never) : layerFromConfig(className, c));
    }
    return model as unknown as T;
  }
}

registerLayerClass('Sequential', Sequential as never);
