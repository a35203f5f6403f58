import type { OpenAPIObject } from '@nestjs/swagger';

const SCHEMA_REF = '#/components/schemas/';

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
