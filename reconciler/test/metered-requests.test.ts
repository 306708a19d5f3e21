/** Runtime requests for usage metering: read from a runtime's counter, and handed on from every observation. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Observation, Target, TargetRef } from '@wharf/contracts';
import type { metering } from '@wharf/store';
import t, { type Test } from 'tap';
import { meteredTargets } from '../src/metered-targets.js';
import { probeRequests } from '../src/targets/local/runtime-instance.js';

async function serve(t: Test, handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

t.test("the local target reads a runtime's request counter, without Wharf's own health checks, within a size bound", async (t) => {
  const seen: string[] = [];
  const port = await serve(t, (req, res) => {
    seen.push(req.url ?? '');
    res.end(
      [
        'wharf_runtime_http_requests_total{route="/hello",method="GET",status="200"} 41',
        'wharf_runtime_http_requests_total{route="/.wharf/healthz",method="GET",status="200"} 500',
        'wharf_runtime_http_requests_total{route="/hello",method="GET",status="404"} 1',
      ].join('\n'),
    );
  });
  t.equal(await probeRequests(port), 42);
  t.same(seen, ['/.wharf/metrics'], "it asks Wharf's reserved path, never the app's /metrics");
  const missing = await serve(t, (_req, res) => {
    res.statusCode = 404;
    res.end('not found');
  });
  t.equal(await probeRequests(missing), null, 'a runtime without the counter (the upstream engine) reports nothing');
  const flood = await serve(t, (_req, res) => {
    res.write('wharf_runtime_http_requests_total 1\n');
    res.end('#'.repeat(2 * 1024 * 1024));
  });
  t.equal(await probeRequests(flood), null, 'a body over 1 MiB is not read');
  t.equal(await probeRequests(1), null, 'nothing listening');
});

t.test('every observation with a counter is recorded for its organization and environment; the target is otherwise unchanged', async (t) => {
  const observation = (requestsTotal?: number): Observation => ({
    exists: true,
    digest: 'sha256:a',
    healthy: true,
    url: null,
    observedGeneration: 1,
    conditions: [],
    instances: [{ name: 'pid 7', digest: 'sha256:a', healthy: true, ...(requestsTotal === undefined ? {} : { requestsTotal }) }],
  });
  let counter: number | undefined = 12;
  const target = {
    applied: 0,
    async observe() {
      return observation(counter);
    },
    async apply() {
      this.applied++;
      return { status: 'ready', url: null } as const;
    },
  };
  const samples: metering.RuntimeRequestSample[] = [];
  const resolver = meteredTargets(
    { resolve: (name: string) => (name === 'local' ? { target: target as unknown as Target, qualifier: null } : { error: `no target ${name}` }) },
    (s) => samples.push(s),
    () => new Date('2026-11-03T09:30:00Z'),
  );
  t.same(resolver.resolve('agent:edge'), { error: 'no target agent:edge' });
  const resolved = resolver.resolve('local');
  if ('error' in resolved) throw new Error(resolved.error);
  const ref: TargetRef = { id: 5, tenantId: 9, repositoryId: 3, app: 'shop', name: 'production', qualifier: null };
  t.same(await resolved.target.observe(ref, {} as never), observation(12), 'the observation is passed on as it was');
  counter = undefined;
  await resolved.target.observe(ref, {} as never);
  t.same(samples, [{ tenantId: 9, environmentId: 5, instance: 'pid 7', total: 12, at: '2026-11-03T09:30:00.000Z' }], 'only readings are recorded');
  await resolved.target.apply({} as never, {} as never);
  t.equal(target.applied, 1, 'other methods run on the target itself');
});
