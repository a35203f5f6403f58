import type { Generated } from 'kysely';

/** Row types of every table. Times are ISO-8601 strings; money is integer minor units. */
export interface EventLogTable {
  seq: Generated<number>;
  event_id: string;
  type: string;
  stream_id: string;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_version: number | null;
  payload: string;
  correlation_id: string;
  causation_id: string | null;
  occurred_at: string;
  schema_version: number;
  /** W3C traceparent: the trace of the event's cause, with a span id of its own. */
  traceparent: string | null;
  /**
   * 1 once every subscriber had finished with the event, as the in-process dispatcher marked it
   * before migration 010; since then the in-process consumer's checkpoint says it instead.
   */
  delivered: Generated<number>;
  /** 1 once the event is in the broker's hands (set by the relay to RabbitMQ). */
  relayed: Generated<number>;
  /**
   * PostgreSQL: the id of the transaction that stored the event (set by the column's default);
   * consumers read in (tx_id, seq) order. SQLite: 0.
   */
  tx_id: Generated<number>;
}

/** Where a consumer is in the log: every event up to (tx_id, seq) is handed to its subscribers. */
export interface ConsumerCheckpointsTable {
  consumer: string;
  tx_id: number;
  seq: number;
  /** Events up to this seq may have finished deliveries recorded as DONE rows (before 010). */
  legacy_seq: number;
  updated_at: string;
}

export type DeliveryStatus = 'DONE' | 'RETRY' | 'DEAD';

export interface DeliveriesTable {
  subscriber: string;
  event_id: string;
  seq: number;
  stream_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  updated_at: string;
}

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

export interface DeadLettersTable {
  id: string;
  subscriber: string;
  event_id: string;
  event_type: string;
  seq: number;
  stream_id: string;
  attempts: number;
  last_error: string;
  failed_at: string;
  replayed_at: string | null;
}

export interface IdempotencyKeysTable {
  /** Who the key belongs to: the `sub` of the request's principal, or `anonymous`. */
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

export interface DB {
  event_log: EventLogTable;
  deliveries: DeliveriesTable;
  consumer_checkpoints: ConsumerCheckpointsTable;
  orders: OrdersTable;
  products: ProductsTable;
  reservations: ReservationsTable;
  payments: PaymentsTable;
  gateway_charges: GatewayChargesTable;
  notifications: NotificationsTable;
  dead_letters: DeadLettersTable;
  idempotency_keys: IdempotencyKeysTable;
  gateway_calls: GatewayCallsTable;
  catalog_changes: CatalogChangesTable;
  customer_erasures: CustomerErasuresTable;
}
