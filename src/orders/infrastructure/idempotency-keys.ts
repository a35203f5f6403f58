import { Injectable } from '@nestjs/common';
import { UnitOfWork, type Tx } from '../../messaging/unit-of-work.js';
import { OrderError } from '../domain/order.errors.js';

/** An in-flight claim older than this is taken to be abandoned (its process died). */
const LEASE_MS = 30_000;

export type Claim = { kind: 'claimed' } | { kind: 'replay'; status: number; body: unknown };

/**
 * Idempotency keys of POST /orders. A key is claimed (IN_FLIGHT) before the order is placed and
 * completed (DONE, with the response) in the same transaction that stores the order, so a key
 * never points to a lost order and an order is never placed twice for one key.
 */
@Injectable()
export class IdempotencyKeys {
  constructor(private readonly uow: UnitOfWork) {}

  async claim(key: string, requestHash: string): Promise<Claim> {
    return this.uow.transaction(async (tx) => {
      const trx = tx.db;
      const now = new Date();
      const inserted = await trx
        .insertInto('idempotency_keys')
        .values({
          key,
          request_hash: requestHash,
          state: 'IN_FLIGHT',
          response_status: null,
          response_body: null,
          created_at: now.toISOString(),
          updated_at: now.toISOString(),
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { kind: 'claimed' } as const;
      const row = await trx
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('key', '=', key)
        .$if(tx.locksRows, (q) => q.forUpdate())
        .executeTakeFirstOrThrow();
      if (row.request_hash !== requestHash) {
        throw new OrderError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request body',
        );
      }
      if (row.state === 'DONE') {
        return {
          kind: 'replay',
          status: Number(row.response_status),
          body: JSON.parse(row.response_body ?? 'null') as unknown,
        } as const;
      }
      if (now.getTime() - Date.parse(row.updated_at) < LEASE_MS) {
        throw new OrderError(
          'IDEMPOTENCY_KEY_IN_FLIGHT',
          'A request with this Idempotency-Key is still being processed; retry later',
        );
      }
      await trx
        .updateTable('idempotency_keys')
        .set({ updated_at: now.toISOString() })
        .where('key', '=', key)
        .execute();
      return { kind: 'claimed' } as const;
    });
  }

  /** Stores the response, inside the transaction that placed the order. */
  async complete(tx: Tx, key: string, status: number, body: unknown): Promise<void> {
    await tx.db
      .updateTable('idempotency_keys')
      .set({
        state: 'DONE',
        response_status: status,
        response_body: JSON.stringify(body),
        updated_at: new Date().toISOString(),
      })
      .where('key', '=', key)
      .execute();
  }

  /** Gives a claim back when placing the order failed, so the client can retry. */
  async release(key: string): Promise<void> {
    await this.uow.transaction((tx) =>
      tx.db
        .deleteFrom('idempotency_keys')
        .where('key', '=', key)
        .where('state', '=', 'IN_FLIGHT')
        .execute(),
    );
  }
}
