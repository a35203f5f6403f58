import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import {
  createLocalJWKSet,
  errors,
  importSPKI,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { ConfigError, type AppConfig } from '../config/app-config.js';
import { ADMIN_SUBJECT_PREFIX, principalId, type Principal, type Role } from './principal.js';

const ROLES: readonly Role[] = ['customer', 'admin'];

/** Verified tokens remembered at most (a cache of verifications, not a session store). */
const VERIFIED_TOKENS_KEPT = 10_000;

/** A subject is stored and compared as a customer id: visible ASCII only, no spaces. */
const SUBJECT = /^[\x21-\x7e]{1,100}$/;

/** Why a token was refused; `reason` goes into the 401 answer, never the token itself. */
export class InvalidToken extends Error {
  override name = 'InvalidToken';
}

export type VerifyToken = (token: string) => Promise<Principal>;

type Key = Uint8Array | Awaited<ReturnType<typeof importSPKI>> | JWTVerifyGetKey;

/**
 * Builds the verifier of bearer tokens from the configuration: one pinned algorithm, `exp`
 * required, JWT_CLOCK_SKEW_SECONDS of tolerance, `iss` and `aud` checked when configured.
 * Keys: an RS256/ES256 public key (PEM) or key set (JWKS) file, else JWT_SECRET (HS256), else,
 * outside production only, a random secret kept in JWT_SECRET_FILE (created on first start).
 */
export async function createTokenVerifier(config: AppConfig, logger: Logger): Promise<VerifyToken> {
  const key = await loadKey(config, logger);
  const options = {
    algorithms: [config.jwtAlgorithm],
    clockTolerance: config.jwtClockSkewSeconds,
    requiredClaims: ['exp', 'sub'],
    ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
  };
  // Verified tokens, kept until they expire: a client sends the same token again and again.
  const verified = new Map<string, { principal: Principal; expiresAt: number }>();
  return async (token) => {
    const known = verified.get(token);
    if (known && known.expiresAt > Date.now()) return known.principal;
    let payload;
    try {
      ({ payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options));
    } catch (error) {
      throw new InvalidToken(reasonOf(error));
    }
    const { sub, role } = payload as { sub?: unknown; role?: unknown };
    if (typeof sub !== 'string' || !SUBJECT.test(sub)) {
      throw new InvalidToken('the token has no usable "sub" claim');
    }
    if (!ROLES.includes(role as Role)) {
      throw new InvalidToken('the token\'s "role" claim must be "customer" or "admin"');
    }
    if (role === 'customer' && sub.startsWith(ADMIN_SUBJECT_PREFIX)) {
      throw new InvalidToken(
        `a customer token's "sub" may not start with "${ADMIN_SUBJECT_PREFIX}"`,
      );
    }
    // exp is required (above); the lifetime counts from iat when the token gives one.
    const now = Math.floor(Date.now() / 1000);
    const issuedAt = typeof payload.iat === 'number' ? Math.min(payload.iat, now) : now;
    if (payload.exp! - issuedAt > config.jwtMaxTtlSeconds + config.jwtClockSkewSeconds) {
      throw new InvalidToken(
        `the token lives longer than the ${config.jwtMaxTtlSeconds} seconds accepted (JWT_MAX_TTL_SECONDS)`,
      );
    }
    const issuer = typeof payload.iss === 'string' ? payload.iss : '';
    const principal: Principal = {
      sub,
      role: role as Role,
      id: principalId(role as Role, sub, issuer),
    };
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.clear();
    verified.set(token, { principal, expiresAt: payload.exp! * 1000 });
    return principal;
  };
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `the token's "${error.claim}" claim is not accepted`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is not signed as required';
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'the token signature is not valid';
  }
  return 'the token is not valid';
}

/**
 * Throws a ConfigError when the token settings cannot work together: a public key file without
 * an asymmetric algorithm, an asymmetric algorithm without a key file, or production without a
 * key. main.ts calls it before the application is built, so the service ends with one line.
 */
export function checkTokenKeySettings(config: AppConfig): void {
  if (config.jwtAlgorithm !== 'HS256') {
    if (!config.jwtJwksFile && !config.jwtPublicKeyFile) {
      throw new ConfigError(
        `JWT_ALGORITHM=${config.jwtAlgorithm} needs JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE`,
      );
    }
    return;
  }
  if (config.jwtPublicKeyFile || config.jwtJwksFile) {
    throw new ConfigError('A public key file needs JWT_ALGORITHM=RS256 or ES256');
  }
  if (!config.jwtSecret && config.nodeEnv === 'production') {
    throw new ConfigError(
      'NODE_ENV=production needs a token key: JWT_SECRET, JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE',
    );
  }
}

async function loadKey(config: AppConfig, logger: Logger): Promise<Key> {
  checkTokenKeySettings(config);
  if (config.jwtJwksFile) {
    return createLocalJWKSet(JSON.parse(readFileSync(config.jwtJwksFile, 'utf8')) as JSONWebKeySet);
  }
  if (config.jwtPublicKeyFile) {
    return importSPKI(readFileSync(config.jwtPublicKeyFile, 'utf8'), config.jwtAlgorithm);
  }
  if (config.jwtSecret) return new TextEncoder().encode(config.jwtSecret);
  return new TextEncoder().encode(developmentSecret(config.jwtSecretFile, logger));
}

/** The secret kept in `file`, created (readable by this user only) when there is none. */
function developmentSecret(file: string, logger: Logger): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  logger.warn(
    `No JWT key configured: created a development secret in ${file}. ` +
      'Mint a token with `npm run token -- --role admin` ' +
      '(or --role customer --sub <customer id>). Set JWT_SECRET or a public key in production.',
  );
  return secret;
}
