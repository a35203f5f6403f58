import { Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../../config/app-config.js';
import { OrderError } from '../domain/order.errors.js';
import { OrderProgress, type OrderProgressStep } from '../queries/order-progress/order-progress.js';

/** One Server-Sent Events message: a `data` line of JSON (which never holds a line break). */
function message(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * What an order's event stream sends for one event: the event (id: its global seq; data: its
 * fields as GET /orders/{id}/events shows them, plus the order's status after it), followed, when
 * the event changed the status, by a `status` message. Both go in one write, so a client never
 * holds the event without its status change; the status message has no id of its own.
 */
function stepMessages(step: OrderProgressStep): string {
  const event = message(step.event.type, { ...step.event, status: step.status }, step.event.seq);
  return step.statusChanged ? event + message('status', { status: step.status }) : event;
}

/**
 * Serves `GET /orders/{id}/stream` as Server-Sent Events: follows the order through the event
 * log until it is settled, the client goes away or STREAM_MAX_MS passes, with a keep-alive
 * comment every STREAM_KEEP_ALIVE_MS. At most STREAM_LIMIT streams are open at once here, and
 * at most STREAM_LIMIT_PER_PRINCIPAL of them for one principal, so one client holding streams
 * cannot shut everyone else out.
 */
@Injectable()
export class OrderEventStream {
  private readonly logger = new Logger(OrderEventStream.name);
  private open = 0;
  /** Streams open per principal (by Principal.id); a principal with none has no entry. */
  private readonly openBy = new Map<string, number>();

  constructor(
    private readonly progress: OrderProgress,
    private readonly config: AppConfig,
  ) {}

  /**
   * Refuses a stream past the principal's share (429) or the instance's limit (503); else takes
   * a place, given back by `serve`.
   */
  reserve(principalId: string): void {
    const mine = this.openBy.get(principalId) ?? 0;
    if (mine >= this.config.streamLimitPerPrincipal) {
      throw new OrderError(
        'TOO_MANY_STREAMS',
        `${mine} order streams of yours are open, the most one principal may hold; close one first`,
      );
    }
    if (this.open >= this.config.streamLimit) {
      throw new OrderError(
        'SERVICE_OVERLOADED',
        `${this.open} order streams are open on this instance, its limit; try again shortly`,
      );
    }
    this.open++;
    this.openBy.set(principalId, mine + 1);
  }

  /** Streams the order after `afterSeq`; resolves when the response has ended. */
  async serve(
    orderId: string,
    principalId: string,
    afterSeq: number,
    req: Request,
    res: Response,
  ): Promise<void> {
    const stop = new AbortController();
    const onClose = () => stop.abort();
    res.on('close', onClose);
    const lifetime = setTimeout(() => stop.abort(), this.config.streamMaxMs);
    const keepAlive = setInterval(
      () => res.write(': keep-alive\n\n'),
      this.config.streamKeepAliveMs,
    );
    try {
      res.status(200);
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      // no-transform: a proxy must neither compress nor hold back what is sent as it happens.
      res.setHeader('Cache-Control', 'no-cache, no-transform');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      req.socket.setNoDelay(true);
      for await (const step of this.progress.follow(orderId, { afterSeq, signal: stop.signal })) {
        res.write(stepMessages(step));
      }
    } catch (error) {
      // Headers are sent: the client learns of a failure by the end of the stream, and resumes
      // with Last-Event-ID.
      this.logger.warn(`Stream of order ${orderId} ended early: ${String(error)}`);
    } finally {
      clearTimeout(lifetime);
      clearInterval(keepAlive);
      res.off('close', onClose);
      this.open--;
      const mine = (this.openBy.get(principalId) ?? 1) - 1;
      if (mine > 0) this.openBy.set(principalId, mine);
      else this.openBy.delete(principalId);
      if (!res.writableEnded) res.end();
    }
  }
}
