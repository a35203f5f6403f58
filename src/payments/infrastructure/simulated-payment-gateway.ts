import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { seededFraction } from '../../common/seeded-random.js';
import { AppConfig } from '../../config/app-config.js';
import {
  anyOf,
  callingOut,
  DATABASE,
  type Database,
  Lookup,
  sharedInsert,
  Statement,
  UnitOfWork,
} from '../../durable-cqrs/index.js';
import type {
  ChargeRequest,
  ChargeResult,
  PaymentGateway,
} from '../domain/payment-gateway.port.js';

const chargeOfKey = new Lookup(
  new Statement<[string], { idempotency_key: string; status: string }>(1, (db, key) =>
    db
      .selectFrom('gateway_charges')
      .select(['idempotency_key', 'status'])
      .where('idempotency_key', '=', key),
  ),
  new Statement<[string[]], { idempotency_key: string; status: string }>(1, (db, keys) =>
    db
      .selectFrom('gateway_charges')
      .select(['idempotency_key', 'status'])
      .where('idempotency_key', '=', anyOf(keys))
      .orderBy('idempotency_key'),
  ),
  (row) => row.idempotency_key,
);

const recordCharge = new Statement<[string, number, string, string, string]>(
  5,
  (db, key, amount, currency, status, now) =>
    db
      .insertInto('gateway_charges')
      .values({
        idempotency_key: key,
        amount,
        currency,
        status,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing()),
);
/** PostgreSQL: the charges recorded by a group share one statement (see SharedWrite). */
const recordCharges = sharedInsert({
  one: recordCharge,
  table: 'gateway_charges',
  columns: [
    ['idempotency_key', 'text'],
    ['amount', 'bigint'],
    ['currency', 'text'],
    ['status', 'text'],
    ['created_at', 'text'],
    ['updated_at', 'text'],
  ],
  key: 'idempotency_key',
  skipConflicts: true,
  rowOf: ([key, amount, currency, status, now]) => [key, amount, currency, status, now, now],
});
const countCall = new Statement<[string], { attempts: number }>(1, (db, key) =>
  db
    .insertInto('gateway_calls')
    .values({ idempotency_key: key, attempts: 1 })
    .onConflict((oc) =>
      oc.column('idempotency_key').doUpdateSet((eb) => ({
        attempts: eb('gateway_calls.attempts', '+', 1),
      })),
    )
    .returning('attempts'),
);

/** A simulated network or provider failure: the outcome of the call is unknown to the caller. */
export class SimulatedGatewayError extends Error {
  override name = 'SimulatedGatewayError';
}

/**
 * SIMULATED payment gateway: no money moves. Outcomes are decided by RANDOM_SEED, the charge's
 * idempotency key and the attempt number, so the same seed and key always behave the same way.
 *
 * - declined (PAYMENT_FAILURE_RATE): a final answer; retrying gives the same answer.
 * - transient (PAYMENT_TRANSIENT_FAILURE_RATE): the call throws. Half of these fail before the
 *   charge is made, half after it was made and the answer was lost; either way a retry with the
 *   same key gets the one real outcome, never a second charge.
 * - hang (PAYMENT_HANG_RATE, first attempt only): the charge is made but the answer comes only
 *   after twice PAYMENT_TIMEOUT_MS; the caller gives up at the timeout and asks again later.
 *
 * Like a real provider it keeps a ledger keyed by idempotency key (table gateway_charges), and a
 * key can be voided (status VOIDED) so that a call still under way does not charge.
 */
@Injectable()
export class SimulatedPaymentGateway implements PaymentGateway {
  private readonly logger = new Logger(SimulatedPaymentGateway.name);

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
  ) {}

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    callingOut('the payment gateway');
    const key = request.idempotencyKey;
    const attempt = await this.countCall(key);
    const { randomSeed: seed, paymentTransientFailureRate: transientRate } = this.config;
    await delay(this.config.paymentLatencyMs);
    const known = await this.find(key);
    if (known) return known;

    const transient = seededFraction(seed, 'transient', key, String(attempt));
    if (transient < transientRate / 2) {
      throw new SimulatedGatewayError('payment gateway unavailable (simulated)');
    }
    const declined = seededFraction(seed, 'charge', key) < this.config.paymentFailureRate;
    const now = new Date().toISOString();
    await this.uow.transaction((tx) =>
      recordCharges.run(
        tx,
        key,
        request.amount,
        request.currency,
        declined ? 'DECLINED' : 'SUCCEEDED',
        now,
      ),
    );
    if (transient < transientRate) {
      throw new SimulatedGatewayError('answer of the payment gateway lost (simulated)');
    }
    if (attempt === 1 && seededFraction(seed, 'hang', key) < this.config.paymentHangRate) {
      await delay(this.config.paymentTimeoutMs * 2, undefined, { ref: false });
    }
    const outcome = (await this.find(key))!;
    this.logger.debug(`charge ${key} (attempt ${attempt}): ${outcome.status}`);
    return outcome;
  }

  /** Counts this call of the key, across instances and restarts: the attempt number. */
  private async countCall(key: string): Promise<number> {
    const { rows } = await this.uow.transaction((tx) => countCall.run(tx, key));
    return Number(rows[0].attempts);
  }

  async find(idempotencyKey: string): Promise<ChargeResult | undefined> {
    callingOut('the payment gateway');
    const row = await chargeOfKey.load(this.database.readerRunner, idempotencyKey);
    if (!row) return undefined;
    if (row.status === 'VOIDED') return { status: 'declined', reason: 'Payment voided' };
    return row.status === 'DECLINED'
      ? { status: 'declined', reason: 'Payment declined by the gateway' }
      : { status: 'succeeded' };
  }

  async void(request: ChargeRequest): Promise<ChargeResult | undefined> {
    callingOut('the payment gateway');
    const key = request.idempotencyKey;
    const changes = await this.uow.transaction((tx) =>
      recordCharges.run(
        tx,
        key,
        request.amount,
        request.currency,
        'VOIDED',
        new Date().toISOString(),
      ),
    );
    // Written now: no charge was made, and a call still under way finds this row and declines.
    if (changes > 0) return undefined;
    return this.find(key);
  }

  async refund(idempotencyKey: string): Promise<void> {
    callingOut('the payment gateway');
    await delay(this.config.paymentLatencyMs);
    await this.uow.transaction((tx) =>
      tx.db
        .updateTable('gateway_charges')
        .set({ status: 'REFUNDED', updated_at: new Date().toISOString() })
        .where('idempotency_key', '=', idempotencyKey)
        .where('status', '=', 'SUCCEEDED')
        .execute(),
    );
  }
}
