import 'reflect-metadata';

/** A JSON Schema (the subset the event catalog uses). */
export interface FieldSchema {
  type?: string | string[];
  format?: string;
  description?: string;
  items?: FieldSchema;
  properties?: Record<string, FieldSchema>;
  required?: string[];
  additionalProperties?: boolean;
  pattern?: string;
  minimum?: number;
  enum?: unknown[];
  example?: unknown;
}

export interface EventDescription {
  /** What happened, in a sentence. */
  summary: string;
  /**
   * Schemas of the fields whose TypeScript type says too little at run time: a nullable
   * field, the items of an array, a decimal string. Other fields are derived from the class.
   */
  fields?: Record<string, FieldSchema>;
}

const descriptions = new WeakMap<object, EventDescription & { producer: string }>();

/** `src/<module>/events/x.event.ts` (or its dist/ build): the module that raises the event. */
const EVENT_FILE = /[\\/](?:src|dist)[\\/]([\w-]+)[\\/]events[\\/][\w.-]+\.event\.[jt]s/;

/**
 * Describes an event class for the event catalog (/docs/asyncapi.json). The payload's fields are
 * the constructor's parameters (the event's own fields); their types come from the TypeScript
 * metadata of the class, refined by `fields`.
 */
export function DescribeEvent(description: EventDescription): ClassDecorator {
  // The decorator runs in the module that declares the class: its folder names the producer.
  const producer = EVENT_FILE.exec(new Error().stack ?? '')?.[1] ?? 'unknown';
  return (target) => {
    descriptions.set(target, { ...description, producer });
  };
}

export function eventDescriptionOf(
  cls: object,
): (EventDescription & { producer: string }) | undefined {
  return descriptions.get(cls);
}

/** A decimal amount with two decimals, as events carry money. */
export const AMOUNT: FieldSchema = { type: 'string', pattern: '^\\d+\\.\\d{2}$', example: '50.00' };
export const NULLABLE_STRING: FieldSchema = { type: ['string', 'null'] };

const BY_DESIGN_TYPE = new Map<unknown, FieldSchema>([
  [String, { type: 'string' }],
  // Every number an event carries counts something (quantities, stock).
  [Number, { type: 'integer' }],
  [Boolean, { type: 'boolean' }],
]);

/**
 * The payload schema of an event class. Throws when a field's type cannot be derived and is not
 * described, so a new event cannot be left out of the catalog by accident.
 */
export function payloadSchemaOf(cls: abstract new (...args: never[]) => unknown): FieldSchema {
  const names = constructorParameters(cls);
  const types = (Reflect.getMetadata('design:paramtypes', cls) ?? []) as unknown[];
  const refined = eventDescriptionOf(cls)?.fields ?? {};
  const properties: Record<string, FieldSchema> = {};
  names.forEach((name, index) => {
    const schema = refined[name] ?? BY_DESIGN_TYPE.get(types[index]);
    if (!schema) {
      throw new Error(`${cls.name}.${name}: describe its schema in @DescribeEvent({ fields })`);
    }
    properties[name] = schema;
  });
  for (const name of Object.keys(refined)) {
    if (!names.includes(name)) throw new Error(`${cls.name} has no field ${name}`);
  }
  return { type: 'object', properties, required: names, additionalProperties: false };
}

/** The parameter names of the class's own constructor, as written (they are the fields). */
function constructorParameters(cls: abstract new (...args: never[]) => unknown): string[] {
  const source = Function.prototype.toString.call(cls);
  const match = /constructor\s*\(([^)]*)\)/.exec(source);
  if (!match) throw new Error(`${cls.name} has no constructor of its own`);
  return match[1]
    .replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}
