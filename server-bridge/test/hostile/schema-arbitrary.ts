/**
 * A small JSON Schema → fast-check arbitrary, for the OpenAPI document the bridge serves
 * (zod 4's JSON Schema: $ref, anyOf/oneOf, const, enum, pattern, formats, bounds). Every
 * value is valid-shaped or hostile: wrong types, odd and huge strings, traversal, shell
 * payloads, prototype-pollution keys. `hints` replace valid-shaped values of named
 * properties (a real profile or tier name, a path inside the suite's own folder).
 */
import fc from 'fast-check';

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  default?: unknown;
};

export interface IGenOptions {
  /** Resolves `#/components/schemas/X`. */
  components: Record<string, JsonSchema>;
  /** Hostile strings to mix in (shell payloads, traversal, odd strings). */
  hostileStrings: readonly string[];
  /** Valid-shaped values for properties (or params) by name; replaces generation. */
  hints: (name: string) => fc.Arbitrary<unknown> | undefined;
  /** Longest string generated (bodies allow more than URLs). */
  maxString: number;
}

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

function resolveRef(ref: string, options: IGenOptions): JsonSchema {
  const name = ref.replace(/^#\/components\/schemas\//, '');
  const schema = options.components[name];
  if (schema === undefined) {
    throw new Error(`unresolved $ref ${ref}`);
  }
  return schema;
}

/** A wrong-typed or hostile JSON value for any slot. */
export function hostileValue(options: IGenOptions): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...options.hostileStrings) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        -1,
        0,
        -0,
        1.5,
        2 ** 53 + 1,
        -(2 ** 63),
        1e308,
        Number.MAX_SAFE_INTEGER,
        true,
        false,
        null
      )
    },
    { weight: 1, arbitrary: fc.constantFrom([], {}, [null], [[[[[[]]]]]], '') },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary', maxLength: 40 })
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: options.maxString })
        .map(n => 'x'.repeat(n))
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }
  );
}

/** An object with own properties `__proto__`/`constructor` (as JSON.parse makes them). */
function withPollution(base: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      base,
      fc.constantFrom(...POLLUTION_KEYS),
      fc.constantFrom<unknown>(
        { polluted: true, isAdmin: true },
        { prototype: { polluted: true } },
        'x'
      )
    )
    .map(([value, key, payload]) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return value;
      }
      const copy: Record<string, unknown> = { ...value };
      Object.defineProperty(copy, key, {
        value: payload,
        enumerable: true,
        writable: true,
        configurable: true
      });
      return copy;
    });
}

function stringArb(
  schema: JsonSchema,
  options: IGenOptions
): fc.Arbitrary<string> {
  const maxLength = Math.min(schema.maxLength ?? 64, options.maxString);
  switch (schema.format) {
    case 'date-time':
      return fc
        .date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2100-01-01T00:00:00Z'),
          noInvalidDate: true
        })
        .map(d => d.toISOString());
    case 'uri':
      return fc.webUrl();
    case 'email':
      return fc.emailAddress();
    default:
      break;
  }
  if (schema.pattern !== undefined) {
    try {
      return fc
        .stringMatching(new RegExp(schema.pattern))
        .filter(s => s.length <= (schema.maxLength ?? Infinity));
    } catch {
      // a pattern JS cannot compile: fall back to plain strings
    }
  }
  return fc.string({
    minLength: Math.min(schema.minLength ?? 0, maxLength),
    maxLength
  });
}

/** A value valid for SCHEMA's shape (hostile values may still appear inside). */
export function validArb(
  schema: JsonSchema,
  options: IGenOptions,
  name?: string,
  depth = 0
): fc.Arbitrary<unknown> {
  const hinted = name === undefined ? undefined : options.hints(name);
  if (hinted !== undefined) {
    return hinted;
  }
  if (depth > 8) {
    return fc.constant(null);
  }
  if (schema.$ref !== undefined) {
    return validArb(resolveRef(schema.$ref, options), options, name, depth);
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined && alternatives.length > 0) {
    return fc.oneof(
      ...alternatives.map(s => validArb(s, options, name, depth))
    );
  }
  if (schema.allOf !== undefined && schema.allOf.length > 0) {
    return validArb(schema.allOf[0], options, name, depth);
  }
  if ('const' in schema) {
    return fc.constant(schema.const);
  }
  if (schema.enum !== undefined) {
    return fc.constantFrom(...schema.enum);
  }
  const types = Array.isArray(schema.type)
    ? schema.type
    : schema.type === undefined
      ? []
      : [schema.type];
  if (types.length > 1) {
    return fc.oneof(
      ...types.map(t => validArb({ ...schema, type: t }, options, name, depth))
    );
  }
  switch (types[0]) {
    case 'string':
      return stringArb(schema, options);
    case 'integer': {
      const min =
        schema.minimum ??
        (schema.exclusiveMinimum === undefined
          ? -1000
          : schema.exclusiveMinimum + 1);
      const max =
        schema.maximum ??
        (schema.exclusiveMaximum === undefined
          ? Math.max(min, 0) + 100_000
          : schema.exclusiveMaximum - 1);
      return fc.integer({
        min: Math.max(min, Number.MIN_SAFE_INTEGER),
        max: Math.min(max, Number.MAX_SAFE_INTEGER)
      });
    }
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e9,
        max: schema.maximum ?? 1e9,
        noNaN: true,
        noDefaultInfinity: true
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = schema.items ?? {};
      return fc.array(anyArb(item, options, undefined, depth + 1), {
        minLength: Math.min(schema.minItems ?? 0, 3),
        maxLength: Math.min(schema.maxItems ?? 4, depth > 2 ? 1 : 4)
      });
    }
    case 'object':
      return objectArb(schema, options, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectArb(
  schema: JsonSchema,
  options: IGenOptions,
  depth: number
): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, sub] of Object.entries(properties)) {
    model[key] = anyArb(sub, options, key, depth + 1);
  }
  const known = fc.record(model, {
    requiredKeys: Object.keys(properties).filter(k => required.has(k))
  });
  const extra =
    typeof schema.additionalProperties === 'object' ||
    schema.propertyNames !== undefined
      ? fc.dictionary(
          schema.propertyNames === undefined
            ? fc.string({ maxLength: 20 })
            : (validArb(schema.propertyNames, options) as fc.Arbitrary<string>),
          anyArb(
            typeof schema.additionalProperties === 'object'
              ? schema.additionalProperties
              : {},
            options,
            undefined,
            depth + 1
          ),
          { maxKeys: depth > 2 ? 1 : 3 }
        )
      : fc.constant({});
  return fc
    .tuple(known, extra)
    .map(([k, e]) => ({ ...(e as object), ...(k as object) }));
}

/**
 * Mostly valid-shaped, sometimes hostile, sometimes with prototype-pollution keys: what
 * the fuzzer puts in every slot.
 */
export function anyArb(
  schema: JsonSchema,
  options: IGenOptions,
  name?: string,
  depth = 0
): fc.Arbitrary<unknown> {
  const valid = validArb(schema, options, name, depth);
  return fc.oneof(
    { weight: depth === 0 ? 5 : 8, arbitrary: valid },
    { weight: 2, arbitrary: hostileValue(options) },
    { weight: 1, arbitrary: withPollution(valid) }
  );
}
