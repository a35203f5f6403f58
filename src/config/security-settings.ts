import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { DECIMAL_AMOUNT_PATTERN } from '../common/money.js';

/** Reads a variable as a number; unset or empty leaves the default. */
export const toNumber = ({ value }: { value: unknown }): unknown =>
  value === undefined || value === '' ? undefined : Number(value);

/**
 * The settings of access control (bearer tokens, the rate limit) and of the limits on what a
 * request may ask: the part of AppConfig that keeps the service safe to expose.
 */
export class SecuritySettings {
  /**
   * HS256 key of the bearer tokens (at least 32 characters). Without it and without a public key,
   * outside production the service creates a random one in JWT_SECRET_FILE on first start.
   */
  @IsString()
  @Matches(/^(.{32,})?$/s, { message: 'JWT_SECRET must be at least 32 characters' })
  jwtSecret = '';

  /** Where the generated development secret is kept (and where `npm run token` reads it). */
  @IsString()
  @Length(1, 4096)
  jwtSecretFile = './data/jwt-secret';

  /** PEM file of the identity provider's public key (RS256 or ES256, see JWT_ALGORITHM). */
  @IsString()
  jwtPublicKeyFile = '';

  /** JWKS file (a JSON key set) of the identity provider, instead of JWT_PUBLIC_KEY_FILE. */
  @IsString()
  jwtJwksFile = '';

  /** The one algorithm tokens are accepted in: HS256 with JWT_SECRET, RS256/ES256 with a key. */
  @IsIn(['HS256', 'RS256', 'ES256'])
  jwtAlgorithm: 'HS256' | 'RS256' | 'ES256' = 'HS256';

  /** Required `iss` claim, when set. */
  @IsString()
  jwtIssuer = '';

  /** Required `aud` claim, when set. */
  @IsString()
  jwtAudience = '';

  /** Clock difference tolerated on `exp` and `nbf`, in seconds. */
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(300)
  jwtClockSkewSeconds = 30;

  /**
   * The longest lifetime a token may have (exp minus iat, or minus now without iat): a longer
   * one is refused (401), so a leaked token cannot serve for years. A day by default.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(60)
  @Max(31_536_000)
  jwtMaxTtlSeconds = 86_400;

  /** `production` refuses to start without a configured key. */
  @IsString()
  nodeEnv = '';

  /** Requests one principal (or, without a token, one IP address) may make per THROTTLE_TTL_MS. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  throttleLimit = 100;

  /** The window of THROTTLE_LIMIT, in milliseconds. */
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  throttleTtlMs = 1000;

  /**
   * Highest unit price a catalog write may set, a decimal string ("1000000.00"). A higher one is
   * refused with 400; an order priced above it (a row written before the limit) fails.
   */
  @Matches(DECIMAL_AMOUNT_PATTERN, {
    message: 'MAX_UNIT_PRICE must be an amount like "1000000.00"',
  })
  @IsString()
  maxUnitPrice = '1000000.00';

  /**
   * Highest total of one order, a decimal string. An order over it fails at validation with a
   * reason; the total is computed exactly, so no order is large enough to overflow it.
   */
  @Matches(DECIMAL_AMOUNT_PATTERN, {
    message: 'MAX_ORDER_TOTAL must be an amount like "10000000.00"',
  })
  @IsString()
  maxOrderTotal = '10000000.00';
}
