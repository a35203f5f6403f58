// Checks that the servers a test script needs are reachable, and says clearly what is missing.
// Usage: node scripts/require-services.mjs postgres [rabbitmq]
import { reachable } from './lib/processes.mjs';

const SERVICES = {
  postgres: {
    url: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    defaultPort: 5432,
    hint: 'start PostgreSQL, or set TEST_DATABASE_URL=postgres://user@host:port/db',
  },
  rabbitmq: {
    url: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    defaultPort: 5672,
    hint: 'start RabbitMQ, or set TEST_AMQP_URL=amqp://user:password@host:port',
  },
};

const missing = [];
for (const name of process.argv.slice(2)) {
  const service = SERVICES[name];
  if (!service) throw new Error(`Unknown service ${name}`);
  const url = new URL(service.url);
  const port = Number(url.port || service.defaultPort);
  if (!(await reachable(url.hostname, port))) {
    missing.push(`${name} is not reachable at ${url.hostname}:${port}: ${service.hint}`);
  }
}
if (missing.length > 0) {
  process.stderr.write(`Cannot run this test: ${missing.join('; ')}\n`);
  process.exit(1);
}
