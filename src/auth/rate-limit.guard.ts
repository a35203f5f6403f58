import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { DomainError } from '../durable-cqrs/index.js';
import { AppConfig } from '../config/app-config.js';
import { isPublic } from './auth.guards.js';
import type { AuthenticatedRequest } from './principal.js';

export class RateLimited extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'RATE_LIMITED',
      `Too many requests: at most the configured number per window; try again in ${retryAfterSeconds} s`,
    );
  }
}

interface Window {
  count: number;
  endsAt: number;
}

/** Windows kept before expired ones are swept (one per principal or address seen lately). */
const SWEEP_AT = 10_000;

/**
 * Rate limit per principal (per IP address for requests without a valid token): at most
 * THROTTLE_LIMIT requests in each fixed window of THROTTLE_TTL_MS, then 429 with Retry-After.
 * Counted in this process's memory: with several instances behind a balancer each counts its own.
 * Open routes (health) are not limited. (`@nestjs/throttler` is CommonJS requiring NestJS 12's ES
 * modules, which the test runner cannot load before Node 24.9; this is the small part we need.)
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (isPublic(this.reflector, context)) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<Request & AuthenticatedRequest>();
    const key = request.principal ? `principal:${request.principal.id}` : `ip:${request.ip ?? ''}`;
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      if (this.windows.size >= SWEEP_AT) this.sweep(now);
      window = { count: 0, endsAt: now + this.config.throttleTtlMs };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count <= this.config.throttleLimit) return true;
    const seconds = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    http.getResponse<Response>().setHeader('Retry-After', String(seconds));
    throw new RateLimited(seconds);
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
