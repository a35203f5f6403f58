import fc from 'fast-check';

/** A JSON schema of the OpenAPI document, loosely typed: the generator reads what it knows. */
export type Schema = Record<string, unknown>;

/** Arrays are generated this long at most, whatever their maxItems: enough to vary, quick. */
const MAX_GENERATED_ITEMS = 4;

/**
 * Values valid per a schema of the served OpenAPI document: each keyword the document uses is
 * honoured (type, enum, format email, pattern, min/max length, minimum/maximum, not, nullable,
 * required, items and their count, `$ref`, `allOf`), and so are the document's extensions:
 * `x-unique-by` (array items unique by a property), `x-maximum` (the largest amount of a decimal
 * string), `x-required-for-roles` (a property required when the request's principal has the
 * role). What the document does not say, the generator does not know either: a value it makes
 * that the service refuses is a disagreement between the two.
 */
export class DocumentArbitraries {
  constructor(
    private readonly schemas: Record<string, Schema>,
    /** The role of the request's principal (for `x-required-for-roles`). */
    private readonly role?: string,
    /** Values of existing resources by property name, mixed into what is generated for it. */
    private readonly known: Record<string, string[]> = {},
  ) {}

  /** A value for a property or parameter of this name: an existing one, or a generated one. */
  named(name: string, schema: Schema): fc.Arbitrary<unknown> {
    const generated = this.valueOf(schema);
    const existing = this.known[name];
    return existing ? fc.oneof(fc.constantFrom(...existing), generated) : generated;
  }

  /** The schema a `$ref` names, or the schema itself. */
  resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    return this.resolve(this.schemas[ref.replace('#/components/schemas/', '')]);
  }

  valueOf(given: Schema): fc.Arbitrary<unknown> {
    const schema = this.resolve(given);
    const arbitrary = this.nonNull(schema);
    return schema.nullable === true ? fc.option(arbitrary, { nil: null }) : arbitrary;
  }

  private nonNull(schema: Schema): fc.Arbitrary<unknown> {
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1) {
      return this.valueOf(schema.allOf[0] as Schema);
    }
    if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
    const excluded = (schema.not as Schema | undefined)?.enum as unknown[] | undefined;
    const allowed = (value: unknown) => !excluded?.includes(value);
    switch (schema.type) {
      case 'string':
        return this.string(schema);
      case 'integer':
        return fc
          .integer({
            min: bound(schema.minimum, -1_000_000),
            max: bound(schema.maximum, 1_000_000),
          })
          .filter(allowed);
      case 'number':
        return fc
          .double({
            min: bound(schema.minimum, -1_000_000),
            max: bound(schema.maximum, 1_000_000),
            noNaN: true,
          })
          .filter(allowed);
      case 'boolean':
        return fc.boolean();
      case 'array':
        return this.array(schema);
      default:
        return this.object(schema);
    }
  }

  private string(schema: Schema): fc.Arbitrary<string> {
    const minLength = bound(schema.minLength, 0);
    const maxLength = Math.min(bound(schema.maxLength, 40), 120);
    const fits = (value: string) => value.length >= minLength && value.length <= maxLength;
    if (schema.format === 'email') {
      return fc.emailAddress().filter((value) => fits(value) && value.length <= 254);
    }
    const pattern = schema.pattern as string | undefined;
    if (pattern === undefined) return fc.string({ minLength, maxLength });
    const maximum = schema['x-maximum'];
    const matches = (value: string) =>
      fits(value) &&
      new RegExp(pattern).test(value) &&
      (typeof maximum !== 'string' || Number(value) <= Number(maximum));
    // `^…[^…]*$` (the identifiers'): text of any script, ASCII most often, that it takes.
    if (/^\^(\(\?![^)]*\))?\[\^.*\]\*\$$/s.test(pattern)) {
      return fc
        .oneof(
          { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength, maxLength }), weight: 3 },
          { arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength }), weight: 1 },
        )
        .filter(matches);
    }
    // fast-check generates from the pattern without a leading negative lookahead (it knows none);
    // the filter applies the whole pattern.
    const generating = pattern.replace(/^\^\(\?![^)]*\)/, '^');
    return fc.stringMatching(new RegExp(generating)).filter(matches);
  }

  private array(schema: Schema): fc.Arbitrary<unknown[]> {
    const items = this.valueOf(schema.items as Schema);
    const minLength = bound(schema.minItems, 0);
    const maxLength = Math.max(
      minLength,
      Math.min(bound(schema.maxItems, 10), MAX_GENERATED_ITEMS),
    );
    const uniqueBy = schema['x-unique-by'];
    if (typeof uniqueBy === 'string') {
      return fc.uniqueArray(items, {
        minLength,
        maxLength,
        selector: (item) => (item as Record<string, unknown>)[uniqueBy],
      });
    }
    return fc.array(items, { minLength, maxLength });
  }

  private object(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const required = [
      ...((schema.required ?? []) as string[]),
      ...Object.entries(properties)
        .filter(([, p]) =>
          (p['x-required-for-roles'] as string[] | undefined)?.includes(this.role!),
        )
        .map(([name]) => name),
    ];
    return fc.record(
      Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, this.named(name, property)]),
      ),
      { requiredKeys: required },
    );
  }
}

function bound(value: unknown, otherwise: number): number {
  return typeof value === 'number' ? value : otherwise;
}
