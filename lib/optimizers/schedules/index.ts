/** keras.optimizers.schedules. */
export {
  LearningRateSchedule,
  ExponentialDecay,
  PiecewiseConstantDecay,
  PolynomialDecay,
  InverseTimeDecay,
  CosineDecay,
  CosineDecayRestarts,
  serialize,
  deserialize,
  type SerializedSchedule,
  type ExponentialDecayOptions,
  type PolynomialDecayOptions,
  type InverseTimeDecayOptions,
  type CosineDecayOptions,
  type CosineDecayRestartsOptions,
} from './learning_rate_schedule.js';
