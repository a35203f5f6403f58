/**
 * The scripts' credentials: each run gives the services it starts a random JWT_SECRET and talks to
 * them as an admin, with a token signed by it, as a client of a real deployment would.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

/** The HS256 secret of the services this run starts. */
export const SCRIPT_JWT_SECRET = randomBytes(32).toString('base64url');

/** A token of `role` for `sub`, valid for `ttl` (a day by default: longer than any run). */
export function mintToken(role, sub, secret = SCRIPT_JWT_SECRET, ttl = '24h') {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}

/** The Authorization header of every request of the scripts. */
export const ADMIN_HEADERS = { authorization: `Bearer ${await mintToken('admin', 'scripts')}` };
