import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { Role } from '../../src/auth/principal.js';

/** The HS256 secret of every test application (one per test process). */
export const TEST_JWT_SECRET = randomBytes(32).toString('base64url');

export interface TokenOptions {
  role: Role;
  sub?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  secret?: string;
  claims?: JWTPayload;
}

/** A signed HS256 token, as `npm run token` mints them. */
export function mintToken({
  role,
  sub = role === 'admin' ? 'test-admin' : 'customer-1',
  expiresIn = 3600,
  secret = TEST_JWT_SECRET,
  claims = {},
}: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + expiresIn)
    .sign(new TextEncoder().encode(secret));
}
