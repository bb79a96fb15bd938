/**
 * Layer classes by name, for `fromConfig` of models and for deserialization.
 */
import { ValueError } from '../errors.js';
import type { Layer } from './layer.js';

type LayerClass = { new (...args: any[]): Layer; fromConfig(config: Record<string, unknown>): Layer };

const CLASSES = new Map<string, LayerClass>();

/** Makes a layer class known by its Keras class name. */
export function registerLayerClass(name: string, cls: LayerClass): void {
  CLASSES.set(name, cls);
}

/** Recreates a layer from its class name and config. */
export function layerFromConfig(className: string, config: Record<string, unknown>): Layer {
  const cls = CLASSES.get(className);
  if (!cls) throw new ValueError(`Unknown layer class "${className}"; known: ${[...CLASSES.keys()].sort().join(', ')}`);
  return cls.fromConfig(config);
}

export function registeredLayerClasses(): string[] {
  return [...CLASSES.keys()];
}
