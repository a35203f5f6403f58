import type { Generated } from 'kysely';
import { type Tables } from '../durable-cqrs/index.js';

/**
 * Row types of the service's own tables, added to the runtime's `Tables` (which holds the event
 * log, deliveries, checkpoints and dead letters). Times are ISO-8601 strings; money is integer
 * minor units.
 */
export interface OrdersTable {
  id: string;
  customer_id: string;
  customer_email: string | null;
  status: string;
  items: string;
  total_amount: number | null;
  currency: string;
  failure_reason: string | null;
  reserved_products: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ProductsTable {
  product_id: string;
  name: string;
  unit_price: number;
  available: number;
  reserved: number;
  sold: number;
  /** Raised by every change of the row; the product's ETag. */
  version: Generated<number>;
  updated_at: string;
}

export type CatalogChangeKind = 'put' | 'adjust';

export interface CatalogChangesTable {
  id: string;
  product_id: string;
  /** The product's version this change produced. */
  version: number;
  kind: CatalogChangeKind;
  /** The `sub` of the principal who made the change, or `anonymous`. */
  actor: string;
  changed_at: string;
  /** JSON of the catalog fields before (null: the change created the product) and after. */
  before: string | null;
  after: string;
  /** An adjustment's delta and reason; null for a put. */
  delta: number | null;
  reason: string | null;
}

export interface ReservationsTable {
  order_id: string;
  status: string;
  lines: string;
  updated_at: string;
}

export interface PaymentsTable {
  payment_id: string;
  order_id: string;
  amount: number;
  currency: string;
  status: string;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface GatewayChargesTable {
  idempotency_key: string;
  amount: number;
  currency: string;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface NotificationsTable {
  notification_id: string;
  order_id: string;
  kind: string;
  recipient: string;
  subject: string;
  status: string;
  created_at: string;
  sent_at: string | null;
  /** Why a notification was not sent (status SKIPPED). */
  skip_reason: string | null;
}

export interface CustomerErasuresTable {
  customer_id: string;
  erased_at: string;
}

export interface IdempotencyKeysTable {
  /** Who the key belongs to: the id of the request's principal (role, subject, issuer), or `anonymous`. */
  principal: string;
  key: string;
  request_hash: string;
  state: 'IN_FLIGHT' | 'DONE';
  /** The token of the request holding an IN_FLIGHT key (null: claimed by an earlier release). */
  claim: string | null;
  response_status: number | null;
  response_body: string | null;
  created_at: string;
  updated_at: string;
}

export interface GatewayCallsTable {
  idempotency_key: string;
  attempts: number;
}

declare module '../durable-cqrs/index.js' {
  interface Tables {
    orders: OrdersTable;
    products: ProductsTable;
    reservations: ReservationsTable;
    payments: PaymentsTable;
    gateway_charges: GatewayChargesTable;
    notifications: NotificationsTable;
    idempotency_keys: IdempotencyKeysTable;
    gateway_calls: GatewayCallsTable;
    catalog_changes: CatalogChangesTable;
    customer_erasures: CustomerErasuresTable;
  }
}

/** Every table of the service's database: the runtime's and its own. */
export type DB = Tables;
