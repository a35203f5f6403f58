/**
 * What the service says of its own work, read from its Prometheus metrics (GET /metrics, admin):
 * the statements and commits it sent to the database (`db_statements_total`, `db_commits_total`)
 * and the time from placing an order to its final status (`order_duration_seconds`). The bench
 * reads them before and after a phase and reports the difference per order.
 */

/** The figures of one scrape, or null when the application has no metrics (the naive one). */
export async function scrapeService(app) {
  const response = await fetch(`${app.base}/metrics`, { headers: app.headers });
  if (!response.ok) return null;
  const text = await response.text();
  const value = (name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  // Every status together: the bench's orders all complete.
  const buckets = new Map();
  for (const line of text.split('\n')) {
    const match = /^order_duration_seconds_bucket\{le="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (!match) continue;
    const le = match[1] === '+Inf' ? Infinity : Number(match[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(match[2]));
  }
  return { statements: value('db_statements_total'), commits: value('db_commits_total'), buckets };
}

/**
 * The figures of several instances of the service on one database, added up (one scrape each),
 * or null when one of them has no metrics.
 */
export async function scrapeServices(apps) {
  const scrapes = await Promise.all(apps.map((app) => scrapeService(app)));
  if (scrapes.some((scrape) => scrape === null)) return null;
  const buckets = new Map();
  for (const scrape of scrapes) {
    for (const [le, n] of scrape.buckets) buckets.set(le, (buckets.get(le) ?? 0) + n);
  }
  const total = (key) => scrapes.reduce((sum, scrape) => sum + scrape[key], 0);
  return { statements: total('statements'), commits: total('commits'), buckets };
}

/**
 * What one order cost over a phase: the statements and commits the service counted (between two
 * scrapes; null for an application without metrics), and the CPU of every process that worked
 * for it, from `cpu` (cpuWindow's figures, in cores over `cpu.seconds`): the application (the
 * service's instances), its servers (PostgreSQL, RabbitMQ) and the bench itself (the load
 * generator and its counter's polls). The machine's cores are shared by all of them, so the sum
 * bounds the end-to-end rate.
 */
export function costPerOrder(before, after, orders, cpu) {
  if (!orders) return null;
  const round = (n) => Math.round(n * 100) / 100;
  const perOrder = (cores) => (cpu ? round((cores * cpu.seconds * 1000) / orders) : null);
  const counted = before && after;
  return {
    statements: counted ? round((after.statements - before.statements) / orders) : null,
    commits: counted ? round((after.commits - before.commits) / orders) : null,
    cpuMs: perOrder(cpu?.app),
    serversCpuMs: perOrder(cpu?.servers),
    benchCpuMs: perOrder(cpu?.bench),
  };
}

/**
 * p50 and p99 of the orders finished between two scrapes, in ms, read from the histogram's
 * buckets (linear within a bucket, as Prometheus' histogram_quantile does).
 */
export function orderLatency(before, after) {
  if (!before || !after) return null;
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => after.buckets.get(le) - (before.buckets.get(le) ?? 0));
  const total = counts[counts.length - 1];
  if (!total) return null;
  const quantile = (q) => {
    const rank = q * total;
    for (let i = 0; i < bounds.length; i++) {
      if (counts[i] < rank) continue;
      const lower = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : counts[i - 1];
      if (bounds[i] === Infinity) return lower * 1000;
      const within = counts[i] - below;
      const share = within > 0 ? (rank - below) / within : 1;
      return Math.round((lower + (bounds[i] - lower) * share) * 100000) / 100;
    }
    return null;
  };
  return { orders: total, p50: quantile(0.5), p99: quantile(0.99) };
}
