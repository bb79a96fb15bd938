/**
 * Bidirectional: runs a recurrent layer forward and a copy of it backward over the
 * sequence and merges the two outputs (Keras' Bidirectional wrapper).
 */
import { ValueError, fmtShape } from '../../errors.js';
import * as ops from '../../ops/index.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { Layer, type LayerArgs, type LayerInputs, type LayerOutputs } from '../layer.js';
import { layerFromConfig, registerLayerClass } from '../registry.js';
import { BaseRNN, type RNNCallOptions } from './base_rnn.js';

/** How the forward and backward outputs are combined; null returns both. */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;

export interface BidirectionalArgs extends LayerArgs {
  /** Default 'concat' (along the last axis). */
  mergeMode?: MergeMode;
  /** The backward layer; by default a copy of `layer`'s config with goBackwards toggled. */
  backwardLayer?: BaseRNN | null;
}

const MERGE_MODES = ['concat', 'sum', 'mul', 'ave', null];

function serializeLayer(layer: Layer): { className: string; config: Record<string, unknown> } {
  return { className: layer.className, config: layer.getConfig() };
}

/** A fresh recurrent layer from another's config, with overrides. */
function cloneRNN(layer: BaseRNN, overrides: Record<string, unknown>): BaseRNN {
  const { batchInputShape: _b, ...config } = layer.getConfig();
  return layerFromConfig(layer.className, { ...config, ...overrides }) as BaseRNN;
}

/**
 * Keras' Bidirectional. The backward layer's sequence output is flipped back in time
 * before merging, so step t of both directions lines up. With returnState the result is
 * `[merged, ...forwardStates, ...backwardStates]` (mergeMode null: `[forward, backward, ...states]`).
 * Weights: the forward layer's, then the backward layer's.
 *
 * ```ts
 * new layers.Bidirectional(new layers.LSTM(8, { returnSequences: true }), { mergeMode: 'sum' });
 * ```
 */
export class Bidirectional extends Layer {
  readonly forwardLayer: BaseRNN;
  readonly backwardLayer: BaseRNN;
  readonly mergeMode: MergeMode;
  readonly returnSequences: boolean;
  readonly returnState: boolean;

  constructor(layer: BaseRNN | (BidirectionalArgs & { layer: BaseRNN | { className: string; config: Record<string, unknown> } }), args: BidirectionalArgs = {}) {
    const opts = layer instanceof Layer ? { ...args, layer } : layer;
    super(opts);
    let inner = opts.layer;
    if (!(inner instanceof Layer)) inner = layerFromConfig(inner.className, inner.config) as BaseRNN;
    if (!(inner instanceof BaseRNN)) throw new ValueError(`Bidirectional: layer must be a recurrent layer (SimpleRNN, LSTM, GRU), received ${String(inner)}`);
    const mergeMode = opts.mergeMode === undefined ? 'concat' : opts.mergeMode;
    if (!MERGE_MODES.includes(mergeMode)) throw new ValueError(`Bidirectional: invalid mergeMode ${JSON.stringify(mergeMode)}; expected one of 'concat', 'sum', 'mul', 'ave', null`);
    this.mergeMode = mergeMode;
    const strip = (name: string, prefix: string) => (name.startsWith(prefix) ? name.slice(prefix.length) : name);
    this.forwardLayer = cloneRNN(inner, { name: `forward_${strip(inner.name, 'forward_')}` });
    let backward = opts.backwardLayer ?? null;
    if (backward && !(backward instanceof Layer)) backward = layerFromConfig((backward as { className: string }).className, (backward as { config: Record<string, unknown> }).config) as BaseRNN;
    if (backward) {
      if (!(backward instanceof BaseRNN)) throw new ValueError(`Bidirectional: backwardLayer must be a recurrent layer, received ${String(backward)}`);
      if (backward.goBackwards === inner.goBackwards) {
        throw new ValueError(`Bidirectional: backwardLayer.goBackwards (${backward.goBackwards}) must be the opposite of layer.goBackwards (${inner.goBackwards})`);
      }
      if (backward.returnSequences !== inner.returnSequences || backward.returnState !== inner.returnState) {
        throw new ValueError(`Bidirectional: backwardLayer must have the same returnSequences and returnState as the forward layer`);
      }
      this.backwardLayer = backward;
    } else {
      this.backwardLayer = cloneRNN(inner, { name: `backward_${strip(inner.name, 'backward_')}`, goBackwards: !inner.goBackwards });
    }
    this.returnSequences = inner.returnSequences;
    this.returnState = inner.returnState;
    // Keras: masked steps of both directions output zeros in returned sequences, so they merge cleanly.
    this.forwardLayer.zeroOutputForMask = this.returnSequences;
    this.backwardLayer.zeroOutputForMask = this.backwardLayer.returnSequences;
    this.supportsMasking = true;
  }

  override build(inputShape: Dim[] | Dim[][]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Dim[];
    if (!this.forwardLayer.built) this.forwardLayer.build(shape);
    if (!this.backwardLayer.built) this.backwardLayer.build(shape);
    this.built = true;
  }

  override call(inputs: LayerInputs, options: RNNCallOptions = {}): LayerOutputs {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const x = list[0];
    let initial: Tensor[] | null = null;
    if (options.initialState) initial = Array.isArray(options.initialState) ? options.initialState : [options.initialState];
    else if (list.length > 1) initial = list.slice(1);
    let fInit: Tensor[] | null = null;
    let bInit: Tensor[] | null = null;
    if (initial) {
      if (initial.length % 2 !== 0) {
        throw new ValueError(`Bidirectional "${this.name}": initialState must hold the forward states then the backward states (an even count), received ${initial.length}: ${initial.map((t) => fmtShape(t.shape)).join(', ')}`);
      }
      fInit = initial.slice(0, initial.length / 2);
      bInit = initial.slice(initial.length / 2);
    }
    const mask = Array.isArray(options.mask) ? (options.mask[0] ?? null) : (options.mask ?? null);
    const run = (layer: BaseRNN, init: Tensor[] | null) => {
      const out = layer.apply(x, { training: options.training, mask, initialState: init });
      return Array.isArray(out) ? out : [out];
    };
    const [y, ...fStates] = run(this.forwardLayer, fInit);
    let [yRev, ...bStates] = run(this.backwardLayer, bInit);
    if (this.returnSequences) yRev = ops.flip(yRev, 1);
    let merged: Tensor[];
    switch (this.mergeMode) {
      case 'concat':
        merged = [ops.concatenate([y, yRev], -1)];
        break;
      case 'sum':
        merged = [ops.add(y, yRev)];
        break;
      case 'mul':
        merged = [ops.multiply(y, yRev)];
        break;
      case 'ave':
        merged = [ops.multiply(ops.add(y, yRev), 0.5)];
        break;
      default:
        merged = [y, yRev];
    }
    if (this.returnState) return [...merged, ...fStates, ...bStates];
    return merged.length === 1 ? merged[0] : merged;
  }

  override computeMask(_inputs: LayerInputs, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    const out = this.returnSequences ? m : null;
    const outputs: (Tensor | null)[] = this.mergeMode === null ? [out, out] : [out];
    if (this.returnState) {
      return [...outputs, ...Array.from({ length: 2 * this.forwardLayer.stateCount }, () => null)];
    }
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { ...super.getConfig(), layer: serializeLayer(this.forwardLayer), mergeMode: this.mergeMode };
    config.backwardLayer = serializeLayer(this.backwardLayer);
    return config;
  }

  static override fromConfig<T extends Layer>(this: new (...args: any[]) => T, config: Record<string, unknown>): T {
    const { layer, backwardLayer, ...rest } = config as { layer: { className: string; config: Record<string, unknown> }; backwardLayer?: { className: string; config: Record<string, unknown> } };
    const inner = layerFromConfig(layer.className, layer.config);
    const backward = backwardLayer ? layerFromConfig(backwardLayer.className, backwardLayer.config) : null;
    return new this(inner, { ...rest, backwardLayer: backward });
  }
}

registerLayerClass('Bidirectional', Bidirectional);
