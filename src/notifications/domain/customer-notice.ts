/**
 * The wording of the e-mails to customers. Every sentence here is fixed: a reason travels with
 * the order's events, and part of it can come from a caller (a cancel reason, a product id), so
 * it is never copied into a message, where it would read as the shop's own words ("Re-enter your
 * card at …"). The order's history keeps the reason itself.
 */
export const CANCELLED_NOTICE =
  'Your order was cancelled. Nothing was charged, or the charge was refunded.';

/** What a failed order's reason starts with (the workflow writes them), and what the customer reads. */
const FAILURE_NOTICES: ReadonlyArray<readonly [prefix: string, notice: string]> = [
  ['Unknown product', 'Your order names a product we do not sell.'],
  ['Order total', 'Your order is above the highest total we accept for one order.'],
  ['Unit price', 'Your order names a product we cannot sell at its current price.'],
  ['Insufficient stock', 'Some of the products in your order are not in stock.'],
  ['Payment failed', 'The payment for your order did not go through.'],
  ['Timed out', 'Your order could not be processed in time.'],
];

export const FAILURE_NOTICE = 'Your order could not be completed.';

/** The fixed sentence for a failed order: one per known kind of failure, else a general one. */
export function failureNotice(reason: string): string {
  const known = FAILURE_NOTICES.find(([prefix]) => reason.startsWith(prefix));
  return known ? `${FAILURE_NOTICE} ${known[1]}` : FAILURE_NOTICE;
}
