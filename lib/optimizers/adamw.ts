/** keras.optimizers.AdamW: Adam with decoupled weight decay (Loshchilov & Hutter). */
import { ValueError } from '../errors.js';
import { Adam, type AdamOptions } from './adam.js';
import { optimizerOptions, type LearningRate } from './optimizer.js';

/**
 * Adam whose `weightDecay` (default 0.004) is applied as `w -= w * weightDecay * lr`
 * before each Adam update (the base optimizer's weight decay, as Keras 3 does).
 */
export class AdamW extends Adam {
  constructor(learningRate?: LearningRate | AdamOptions, options?: AdamOptions) {
    const o = optimizerOptions<AdamOptions>('AdamW', learningRate, options, { learningRate: 0.001, weightDecay: 0.004, name: 'adamw' });
    if (o.weightDecay === null) throw new ValueError('AdamW: argument weightDecay must be a number. Received: weightDecay=null');
    super(o);
  }
}
