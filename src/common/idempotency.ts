/**
 * How long an Idempotency-Key claimed by a request (IN_FLIGHT) holds against other requests with
 * the key before it is taken to be abandoned (the request's process died) and may be taken over.
 * A request takes milliseconds from its claim to its commit; should one take longer and lose its
 * claim, it fails and stores nothing (its completion is guarded by its claim's token), and the
 * request that took the claim over places the order: one order per key either way.
 */
export const IDEMPOTENCY_CLAIM_LEASE_MS = 5_000;
