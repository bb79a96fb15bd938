/**
 * Name lookup and `{className, config}` (de)serialization shared by keras.initializers,
 * keras.regularizers and keras.constraints (Keras' `get` / `serialize` / `deserialize`).
 *
 * Names: a class is found by its class name (`GlorotUniform`), Keras' snake_case name
 * (`glorot_uniform`), and its camelCase form (`glorotUniform`), plus per-module aliases.
 * Configs: `getConfig()` returns snake_case keys as Keras writes them in config.json;
 * `fromConfig` accepts snake_case or camelCase keys.
 */
import { KerasError, ValueError } from '../errors.js';
import { isPlainObject } from '../utils/args.js';

/** A JSON-serializable configuration dict. */
export type Config = Record<string, unknown>;

/** What `serialize` returns (Keras' `serialize_keras_object`, camelCased keys). */
export interface SerializedObject {
  module: string;
  className: string;
  config: Config;
  registeredName: string | null;
}

/** A class that can be re-created from its config. */
export interface ConfigurableClass<T> {
  new (...args: any[]): T;
  fromConfig(config: Config): T;
  readonly name: string;
}

/** Keras' `to_snake_case`: `GlorotUniform` -> `glorot_uniform`, `L1L2` -> `l1_l2`. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** `max_value` -> `maxValue`; camelCase input passes through. */
export function toCamelCase(name: string): string {
  return name.replace(/_+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A copy of `config` with camelCase keys (the constructors' option names). */
export function camelizeConfig(config: Config): Config {
  const out: Config = {};
  for (const [k, v] of Object.entries(config)) out[toCamelCase(k)] = v;
  return out;
}

function describe(v: unknown): string {
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * The lookup table of one Keras module. `T` is the module's base class; plain functions
 * given to `get` are wrapped by `wrapFunction` so every result has the same interface.
 */
export class ObjectRegistry<T extends object> {
  private readonly byName = new Map<string, ConfigurableClass<T>>();
  private readonly canonical: string[] = [];

  constructor(
    /** `initializer`, `regularizer`, `constraint`: used in messages. */
    readonly kind: string,
    /** `keras.initializers`...: the serialized `module`. */
    readonly module: string,
    private readonly base: abstract new (...args: any[]) => T,
    classes: readonly ConfigurableClass<T>[],
    aliases: Record<string, ConfigurableClass<T>>,
    private readonly wrapFunction: (fn: (...args: any[]) => unknown) => T,
  ) {
    for (const cls of classes) {
      const snake = toSnakeCase(cls.name);
      this.canonical.push(snake);
      for (const n of [cls.name, snake, toCamelCase(snake)]) this.byName.set(n, cls);
    }
    for (const [n, cls] of Object.entries(aliases)) this.byName.set(n, cls);
  }

  /** The class registered under `name` (class, snake_case, camelCase or alias), if any. */
  lookup(name: string): ConfigurableClass<T> | undefined {
    return this.byName.get(name);
  }

  /** Every accepted string identifier. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  private unknown(where: string, name: string): ValueError {
    return new ValueError(`${where}: unknown ${this.kind} ${JSON.stringify(name)}; known: ${[...new Set(this.canonical)].sort().join(', ')} (also as class names and camelCase)`);
  }

  private isClass(v: unknown): v is ConfigurableClass<T> {
    return typeof v === 'function' && (v === this.base || v.prototype instanceof this.base);
  }

  /**
   * Keras' `get`: null/undefined -> null; a name -> a new default instance; a config
   * `{className | class_name, config}` -> deserialized; an instance -> itself; a class -> a
   * new instance; a plain function -> wrapped.
   */
  get(identifier: unknown): T | null {
    const where = `${this.module}.get`;
    if (identifier === null || identifier === undefined) return null;
    if (identifier instanceof this.base) return identifier;
    if (typeof identifier === 'string') {
      const cls = this.lookup(identifier);
      if (!cls) throw this.unknown(where, identifier);
      return new cls();
    }
    if (isPlainObject(identifier)) return this.deserialize(identifier);
    if (this.isClass(identifier)) return new identifier();
    if (typeof identifier === 'function') return this.wrapFunction(identifier as (...args: any[]) => unknown);
    throw new ValueError(`${where}: could not interpret ${this.kind} identifier: ${describe(identifier)}; expected a name, a {className, config} object, an instance, a class or a function`);
  }

  /** `{module, className, config, registeredName}` for an instance of a class with `getConfig`. */
  serialize(obj: T): SerializedObject {
    const where = `${this.module}.serialize`;
    if (!(obj instanceof this.base)) throw new ValueError(`${where}: expected a ${this.kind}, received ${describe(obj)}`);
    const getConfig = (obj as { getConfig?: () => Config }).getConfig;
    if (typeof getConfig !== 'function') throw new KerasError(`${where}: ${obj.constructor.name} has no getConfig()`);
    const className = obj.constructor.name;
    const builtin = this.lookup(className) === obj.constructor;
    return { module: builtin ? this.module : 'custom', className, config: getConfig.call(obj), registeredName: builtin ? null : className };
  }

  /** Re-creates an object from `serialize()` output or a Keras `{class_name, config}` dict. */
  deserialize(serialized: SerializedObject | Record<string, unknown>, customObjects: Record<string, ConfigurableClass<T>> = {}): T {
    const where = `${this.module}.deserialize`;
    const config = serialized as Record<string, unknown>;
    const className = config.className ?? config.class_name;
    if (typeof className !== 'string') throw new ValueError(`${where}: expected {className, config}, received ${describe(config)}`);
    const registered = config.registeredName ?? config.registered_name;
    const cls = customObjects[className] ?? (typeof registered === 'string' ? customObjects[registered] : undefined) ?? this.lookup(className);
    if (!cls) throw this.unknown(where, className);
    const inner = config.config ?? {};
    if (!isPlainObject(inner)) throw new ValueError(`${where}: the config of ${className} must be an object, received ${describe(inner)}`);
    return cls.fromConfig(inner);
  }
}
