import type { OpenAPIObject } from '@nestjs/swagger';
import { dropUnusedSchemas } from './openapi-schemas.js';

describe('dropUnusedSchemas', () => {
  it('keeps the schemas the operations refer to, directly or through other schemas, and drops the rest', () => {
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    const document = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/orders': {
          post: {
            requestBody: { content: { 'application/json': { schema: ref('PlaceOrder') } } },
            responses: {
              '202': {
                description: 'ok',
                content: { 'application/json': { schema: { type: 'array', items: ref('Order') } } },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          PlaceOrder: {
            type: 'object',
            properties: { items: { type: 'array', items: ref('Line') } },
          },
          Line: { type: 'object' },
          Order: { allOf: [ref('Money')] },
          Money: { type: 'string' },
          HealthIndicatorDto: { type: 'object', properties: { self: ref('HealthIndicatorDto') } },
        },
      },
    } as unknown as OpenAPIObject;
    dropUnusedSchemas(document);
    expect(Object.keys(document.components!.schemas!).sort()).toEqual([
      'Line',
      'Money',
      'Order',
      'PlaceOrder',
    ]);
  });
});
