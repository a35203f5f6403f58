import type { Migration } from 'kysely';
import { type SqlDialectName } from '../durable-cqrs/index.js';
import { initialSchema } from './migrations/001-initial.js';
import { seedCatalog } from './migrations/002-seed-catalog.js';
import { reliability } from './migrations/003-reliability.js';
import { gatewayCalls } from './migrations/004-gateway-calls.js';
import { deliveredAndRelayed } from './migrations/005-delivered-and-relayed.js';
import { leanDeliveries } from './migrations/006-lean-deliveries.js';
import { catalogAudit } from './migrations/007-catalog-audit.js';
import { dataLifecycle } from './migrations/008-data-lifecycle.js';
import { traceContext } from './migrations/009-trace-context.js';
import { checkpoints } from './migrations/010-checkpoints.js';
import { noUndeliveredIndex } from './migrations/011-no-undelivered-index.js';
import { idempotencyClaims } from './migrations/012-idempotency-claims.js';

/**
 * The service's migrations, applied by the runtime's module (DurableCqrsModule's `migrations`)
 * before the runtime's own and recorded in Kysely's usual table. The first eleven predate the
 * runtime's own list: besides the service's tables they created and shaped the runtime's (001,
 * 003, 005, 006, 009, 010, 011), which is why they stay here, as the history of databases they
 * made; the runtime's baseline finds those tables in its shape. New migrations here touch only
 * the service's tables.
 */
export function serviceMigrations(dialect: SqlDialectName): Record<string, Migration> {
  return {
    '001-initial': initialSchema(dialect),
    '002-seed-catalog': seedCatalog,
    '003-reliability': reliability,
    '004-gateway-calls': gatewayCalls,
    '005-delivered-and-relayed': deliveredAndRelayed,
    '006-lean-deliveries': leanDeliveries(dialect),
    '007-catalog-audit': catalogAudit,
    '008-data-lifecycle': dataLifecycle,
    '009-trace-context': traceContext,
    '010-checkpoints': checkpoints(dialect),
    '011-no-undelivered-index': noUndeliveredIndex,
    '012-idempotency-claims': idempotencyClaims,
  };
}
