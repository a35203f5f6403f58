import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { UnitOfWork, type Tx } from '../../messaging/unit-of-work.js';
import { OrderError } from '../domain/order.errors.js';

/** An in-flight claim older than this is taken to be abandoned (its process died). */
const LEASE_MS = 30_000;

export type Claim = { kind: 'claimed' } | { kind: 'replay'; status: number; body: unknown };

/** An Idempotency-Key as its owner sent it: keys of different principals never meet. */
export interface ScopedKey {
  principal: string;
  key: string;
}

/**
 * Idempotency keys of POST /orders. A key is claimed (IN_FLIGHT) before the order is placed and
 * completed (DONE, with the response) in the same transaction that stores the order, so a key
 * never points to a lost order and an order is never placed twice for one key.
 *
 * A key belongs to the principal that sent it, so one client cannot replay, block or learn of
 * another's order by guessing its key; and it lives IDEMPOTENCY_KEY_TTL_MS from its first use,
 * after which the same key starts anew (the retention job removes expired keys).
 */
@Injectable()
export class IdempotencyKeys {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly config: AppConfig,
  ) {}

  async claim({ principal, key }: ScopedKey, requestHash: string): Promise<Claim> {
    return this.uow.transaction(async (tx) => {
      const trx = tx.db;
      const now = new Date();
      const fresh = {
        request_hash: requestHash,
        state: 'IN_FLIGHT',
        response_status: null,
        response_body: null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      } as const;
      const inserted = await trx
        .insertInto('idempotency_keys')
        .values({ principal, key, ...fresh })
        .onConflict((oc) => oc.columns(['principal', 'key']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { kind: 'claimed' } as const;
      const row = await trx
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('principal', '=', principal)
        .where('key', '=', key)
        .$if(tx.locksRows, (q) => q.forUpdate())
        .executeTakeFirstOrThrow();
      const inFlight =
        row.state === 'IN_FLIGHT' && now.getTime() - Date.parse(row.updated_at) < LEASE_MS;
      if (this.isExpired(row.created_at, now) && !inFlight) {
        // The key's lifetime is over: the request is a new one, whatever the key saw before.
        await this.update(tx, { principal, key }).set(fresh).execute();
        return { kind: 'claimed' } as const;
      }
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
      if (inFlight) {
        throw new OrderError(
          'IDEMPOTENCY_KEY_IN_FLIGHT',
          'A request with this Idempotency-Key is still being processed; retry later',
        );
      }
      await this.update(tx, { principal, key }).set({ updated_at: now.toISOString() }).execute();
      return { kind: 'claimed' } as const;
    });
  }

  /** Stores the response, inside the transaction that placed the order. */
  async complete(tx: Tx, scoped: ScopedKey, status: number, body: unknown): Promise<void> {
    await this.update(tx, scoped)
      .set({
        state: 'DONE',
        response_status: status,
        response_body: JSON.stringify(body),
        updated_at: new Date().toISOString(),
      })
      .execute();
  }

  /** Gives a claim back when placing the order failed, so the client can retry. */
  async release({ principal, key }: ScopedKey): Promise<void> {
    await this.uow.transaction((tx) =>
      tx.db
        .deleteFrom('idempotency_keys')
        .where('principal', '=', principal)
        .where('key', '=', key)
        .where('state', '=', 'IN_FLIGHT')
        .execute(),
    );
  }

  /** The first moment at which a key created at `createdAt` no longer replays. */
  isExpired(createdAt: string, now: Date): boolean {
    return Date.parse(createdAt) + this.config.idempotencyKeyTtlMs <= now.getTime();
  }

  private update(tx: Tx, { principal, key }: ScopedKey) {
    return tx.db
      .updateTable('idempotency_keys')
      .where('principal', '=', principal)
      .where('key', '=', key);
  }
}
