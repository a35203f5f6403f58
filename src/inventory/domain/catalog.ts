import type { ProductView } from './reservation.js';

/** A product as stored now, with the version its every change raises (its ETag). */
export interface ProductState {
  product: ProductView;
  version: number;
}

/**
 * The condition of an If-Match header: any current version (`*`), or one of these versions. An
 * empty list matches nothing (the header named only tags this service never gives out).
 */
export type VersionCondition = '*' | number[];

/** The fields a catalog write sets, as a change records them. */
export interface CatalogFields {
  name: string;
  /** Two decimals, "20.00". */
  unitPrice: string;
  available: number;
}

/** One catalog write, as the audit shows it. */
export interface CatalogChangeView {
  id: string;
  productId: string;
  /** The product's version this change produced. */
  version: number;
  kind: 'put' | 'adjust';
  actor: string;
  changedAt: string;
  /** Null when the change created the product. */
  before: CatalogFields | null;
  after: CatalogFields;
  /** An adjustment's delta and reason; null for a put. */
  delta: number | null;
  reason: string | null;
}
