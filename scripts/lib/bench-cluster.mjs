// The benchmark's pg-cluster part (see the header of scripts/bench.mjs): several instances of the
// service on one PostgreSQL database, in-process delivery. All of them take POST /orders; the
// one holding the delivery lease delivers the events of all.
import { cpuWindow } from './bench-cpu.mjs';

/**
 * Starts `instances` processes of the service, one after the other, on a fresh PostgreSQL
 * database; places one order on each and waits for them; then the POST phase on all of them at
 * once (its total stopping at `maxOrders`) and the wait for every notification. Stops them and
 * drops the database afterwards.
 * @param {number} instances
 * @param {number} maxOrders
 * @param {object} steps  the bench's own: onPostgres, withCleanup, warmUp, postAndDrain, log
 */
export function clusterPart(instances, maxOrders, steps) {
  const { onPostgres, withCleanup, warmUp, postAndDrain, log } = steps;
  return onPostgres(false, ({ start, counter, servers }) => {
    const apps = [];
    return withCleanup(
      () => Promise.all(apps.map((app) => app.process.stop())).then(() => undefined),
      async () => {
        for (let i = 0; i < instances; i++) apps.push(await start());
        const cpu = cpuWindow(() => apps.map((app) => app.process.pid), servers);
        await warmUp(apps, counter);
        const roles = await Promise.all(apps.map((app) => deliveryRole(app)));
        log(`  events: ${roles.map((role, i) => `instance ${i + 1} ${role}`).join(', ')}`);
        const phase = await postAndDrain(apps, counter, maxOrders, servers);
        return { instances, roles, ...phase, cpu: await cpu.end() };
      },
    );
  });
}

/** What GET /health says the instance does with events: 'delivering' or 'standing by'. */
async function deliveryRole(app) {
  const response = await fetch(`${app.base}/health`, { headers: app.headers });
  return (await response.json()).events;
}
