// oxlint-disable no-console -- prints the token it mints.
/**
 * Mints a bearer token for the service's HS256 key (development and tests):
 *
 *   npm run token -- --role admin
 *   npm run token -- --role customer --sub customer-42 [--ttl 12h]
 *
 * The key is JWT_SECRET when set, else the file JWT_SECRET_FILE names (default data/jwt-secret,
 * which the service creates on its first start outside production). With an identity provider
 * (JWT_ALGORITHM RS256 or ES256) tokens come from that provider, not from here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mintToken } from './lib/auth.mjs';

function fail(message) {
  console.error(`npm run token: ${message}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      role: { type: 'string' },
      sub: { type: 'string' },
      ttl: { type: 'string', default: '12h' },
    },
  }));
} catch (error) {
  fail(error.message);
}
const { role, ttl } = values;
if (role !== 'admin' && role !== 'customer') fail('--role must be admin or customer');
// Customer tokens may not take a subject starting with "admin:" (the service refuses them).
const sub = values.sub ?? (role === 'admin' ? 'admin:local' : undefined);
if (!sub) fail('a customer token needs --sub <customer id>');
if (!/^[\x21-\x7e]{1,100}$/.test(sub)) fail('--sub must be 1 to 100 visible ASCII characters');
if ((process.env.JWT_ALGORITHM ?? 'HS256') !== 'HS256') {
  fail('JWT_ALGORITHM is not HS256: tokens come from your identity provider');
}

let secret = process.env.JWT_SECRET;
if (!secret) {
  const file = process.env.JWT_SECRET_FILE || './data/jwt-secret';
  if (!existsSync(file)) {
    fail(`no key: set JWT_SECRET, or start the service once so that it creates ${file}`);
  }
  secret = readFileSync(file, 'utf8').trim();
}
try {
  console.log(await mintToken(role, sub, secret, ttl));
} catch (error) {
  fail(error.message);
}
