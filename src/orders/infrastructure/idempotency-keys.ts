import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { IDEMPOTENCY_CLAIM_LEASE_MS } from '../../common/idempotency.js';
import { AppConfig } from '../../config/app-config.js';
import { type Tx, UnitOfWork } from '../../durable-cqrs/index.js';
import { OrderError } from '../domain/order.errors.js';

/** A key claimed (with the token that completes or releases it), or the stored answer. */
export type Claim =
  { kind: 'claimed'; token: string } | { kind: 'replay'; status: number; body: unknown };

/** An Idempotency-Key as its owner sent it: keys of different principals never meet. */
export interface ScopedKey {
  principal: string;
  key: string;
}

/**
 * Idempotency keys of POST /orders. A key is claimed (IN_FLIGHT, with a token of the request's
 * own) before the order is placed and completed (DONE, with the response) in the same
 * transaction that stores the order, so a key never points to a lost order. A claim older than
 * IDEMPOTENCY_CLAIM_LEASE_MS is taken to be abandoned and may be taken over; completing needs
 * the claim's token, so a request that lost its claim stores nothing: an order is never placed
 * twice for one key.
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
      const token = randomUUID();
      const claimed = { kind: 'claimed', token } as const;
      const fresh = {
        request_hash: requestHash,
        state: 'IN_FLIGHT',
        claim: token,
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
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return claimed;
      const row = await trx
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('principal', '=', principal)
        .where('key', '=', key)
        .$if(tx.locksRows, (q) => q.forUpdate())
        .executeTakeFirstOrThrow();
      const inFlight =
        row.state === 'IN_FLIGHT' &&
        now.getTime() - Date.parse(row.updated_at) < IDEMPOTENCY_CLAIM_LEASE_MS;
      if (this.isExpired(row.created_at, now) && !inFlight) {
        // The key's lifetime is over: the request is a new one, whatever the key saw before.
        await this.update(tx, { principal, key }).set(fresh).execute();
        return claimed;
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
      // An abandoned claim: taken over, with this request's token.
      await this.update(tx, { principal, key })
        .set({ claim: token, updated_at: now.toISOString() })
        .execute();
      return claimed;
    });
  }

  /**
   * Stores the response, inside the transaction that placed the order. Throws when the claim
   * `token` no longer holds the key (another request took it over after the lease): the order
   * must not be stored, the other request places it.
   */
  async complete(
    tx: Tx,
    scoped: ScopedKey,
    token: string,
    status: number,
    body: unknown,
  ): Promise<void> {
    const result = await this.update(tx, scoped)
      .where('state', '=', 'IN_FLIGHT')
      .where('claim', '=', token)
      .set({
        state: 'DONE',
        response_status: status,
        response_body: JSON.stringify(body),
        updated_at: new Date().toISOString(),
      })
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      throw new OrderError(
        'IDEMPOTENCY_KEY_IN_FLIGHT',
        'Another request with this Idempotency-Key took it over; retry to get its answer',
      );
    }
  }

  /** Gives a claim back when placing the order failed, so the client can retry. */
  async release({ principal, key }: ScopedKey, token: string): Promise<void> {
    await this.uow.transaction((tx) =>
      tx.db
        .deleteFrom('idempotency_keys')
        .where('principal', '=', principal)
        .where('key', '=', key)
        .where('state', '=', 'IN_FLIGHT')
        .where('claim', '=', token)
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
