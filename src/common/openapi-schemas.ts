import type { OpenAPIObject } from '@nestjs/swagger';

/** Passes over the component schemas of the OpenAPI document (see completeDocument). */

// The package does not export its OpenAPI types by name.
type SchemaOrRef = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];
type ReferenceObject = Extract<SchemaOrRef, { $ref: string }>;
type SchemaObject = Exclude<SchemaOrRef, ReferenceObject>;

const SCHEMA_REF = '#/components/schemas/';

/** Adds to `into` the names of the schemas `schema` refers to (its items and properties). */
export function collectRefs(
  schema: SchemaObject | ReferenceObject | undefined,
  into: Set<string>,
): void {
  if (!schema) return;
  if ('$ref' in schema) {
    into.add(schema.$ref.replace(SCHEMA_REF, ''));
    return;
  }
  collectRefs(schema.items, into);
  for (const property of Object.values(schema.properties ?? {})) collectRefs(property, into);
}

/** Refuses unknown fields in the request schemas and in those they refer to. */
export function closeSchemas(
  schemas: Record<string, SchemaObject | ReferenceObject>,
  names: Set<string>,
): void {
  const seen = new Set<string>();
  const pending = [...names];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const schema = schemas[name];
    if (!schema || '$ref' in schema) continue;
    schema.additionalProperties = false;
    const nested = new Set<string>();
    collectRefs({ ...schema, additionalProperties: undefined }, nested);
    pending.push(...nested);
  }
}

/**
 * Drops the component schemas that nothing in the document refers to, directly or through other
 * schemas: a library may declare one that no operation of this service uses (terminus' health
 * check declares `HealthIndicatorDto` when it can load @nestjs/swagger), and the linters of the
 * contract rightly call an unused component a mistake.
 */
export function dropUnusedSchemas(document: OpenAPIObject): void {
  const schemas: Record<string, unknown> = document.components?.schemas ?? {};
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (key !== '$ref' || typeof inner !== 'string' || !inner.startsWith(SCHEMA_REF)) {
        visit(inner);
        continue;
      }
      const name = inner.slice(SCHEMA_REF.length);
      if (used.has(name)) continue;
      used.add(name);
      visit(schemas[name]);
    }
  };
  visit({ ...document, components: { ...document.components, schemas: {} } });
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
}

/** `{ nullable, allOf: [$ref] }` (how a nullable DTO property comes out) gets `type: object`. */
export function typeNullableReferences(schemas: Record<string, SchemaOrRef>): void {
  for (const schema of Object.values(schemas)) {
    if ('$ref' in schema) continue;
    for (const property of Object.values(schema.properties ?? {})) {
      if ('$ref' in property) continue;
      if (property.nullable && property.allOf && !property.type) property.type = 'object';
    }
  }
}

/**
 * `x-maximum: '<SETTING>'` on a property (an amount given as a decimal string, which `maximum`
 * cannot bound) becomes the setting's value, so the document states the limit the service runs
 * with.
 */
export function fillSettings(
  schemas: Record<string, SchemaOrRef>,
  settings: Record<string, string>,
): void {
  for (const schema of Object.values(schemas)) {
    if ('$ref' in schema) continue;
    for (const property of Object.values(schema.properties ?? {}) as Array<
      Record<string, unknown>
    >) {
      const name = property['x-maximum'];
      if (typeof name === 'string' && name in settings) property['x-maximum'] = settings[name];
    }
  }
}
