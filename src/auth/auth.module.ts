import { Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppConfig } from '../config/app-config.js';
import { AuthenticateGuard, AuthorizeGuard, VERIFY_TOKEN } from './auth.guards.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { createTokenVerifier } from './token-verifier.js';

/**
 * Bearer tokens, roles and rate limits on every route. The guards run in the order listed:
 * authenticate, limit the rate, authorize.
 */
@Module({
  providers: [
    {
      provide: VERIFY_TOKEN,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createTokenVerifier(config, new Logger('Auth')),
    },
    { provide: APP_GUARD, useClass: AuthenticateGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: APP_GUARD, useClass: AuthorizeGuard },
  ],
})
export class AuthModule {}
