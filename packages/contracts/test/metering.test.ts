/** Metering's vocabulary: identifiers Stripe dedupes on, units, and the request counter read from a runtime. */
import t from 'tap';
import {
  METERING_BASE_UNITS,
  meterEventIdentifier,
  RUNTIME_REQUESTS_MAX,
  RUNTIME_RESERVED_PREFIX,
  sumRuntimeRequests,
  USAGE_METRIC_NAMES,
} from '../src/index.js';

t.test('identifiers are stable per (organization, metric, hour, revision) and within Stripe’s 100 characters', async (t) => {
  const hour = '2026-11-03T09:00:00.000Z';
  t.equal(meterEventIdentifier({ tenantId: 42, metric: 'deploys', hour, revision: 0 }), 'wharf-42-deploys-20261103T09');
  t.equal(meterEventIdentifier({ tenantId: 42, metric: 'deploys', hour, revision: 2 }), 'wharf-42-deploys-20261103T09-r2');
  t.not(meterEventIdentifier({ tenantId: 42, metric: 'deploys', hour, revision: 0 }), meterEventIdentifier({ tenantId: 4, metric: 'deploys', hour, revision: 0 }));
  for (const metric of USAGE_METRIC_NAMES) {
    t.ok(meterEventIdentifier({ tenantId: Number.MAX_SAFE_INTEGER, metric, hour, revision: 99_999 }).length <= 100, metric);
  }
  t.same(METERING_BASE_UNITS, { productionEnvironmentHours: 3600, previewEnvironmentHours: 3600, deploys: 1, agentHours: 3600, runtimeRequests: 1 });
});

t.test("a runtime's request counter: the app's routes only, whatever the text holds", async (t) => {
  const text = [
    '# HELP wharf_runtime_http_requests_total HTTP requests answered, by route pattern, method and status',
    '# TYPE wharf_runtime_http_requests_total counter',
    'wharf_runtime_http_requests_total{route="/hello",method="GET",status="200"} 120',
    'wharf_runtime_http_requests_total{route="/items/{id}",method="POST",status="500"} 3',
    'wharf_runtime_http_requests_total{route="/.wharf/healthz",method="GET",status="200"} 9000',
    'wharf_runtime_http_requests_total{route="/say \\"hi\\"",method="GET",status="200"} 7',
    'wharf_runtime_step_duration_seconds_count{pipeline="p",step="s",type="t"} 55',
    'wharf_runtime_http_requests_total{route="/x",method="GET",status="200"} NaN',
    'wharf_runtime_http_requests_total{route="/y",method="GET",status="200"} -4',
  ].join('\n');
  t.equal(sumRuntimeRequests(text, RUNTIME_RESERVED_PREFIX), 130, 'health checks, other metrics and nonsense values are not counted');
  t.equal(sumRuntimeRequests('wharf_runtime_http_requests_total 5', RUNTIME_RESERVED_PREFIX), 5, 'a counter without labels');
  t.equal(sumRuntimeRequests('# nothing here\nup 1\n', RUNTIME_RESERVED_PREFIX), null, 'no counter: unknown, not zero');
  const huge = `${'x\n'.repeat(30_000)}wharf_runtime_http_requests_total{route="/late"} 1\n`;
  t.equal(sumRuntimeRequests(huge, RUNTIME_RESERVED_PREFIX), null, 'lines past the bound are not read');
  const absurd = 'wharf_runtime_http_requests_total{route="/a"} 1e300\nwharf_runtime_http_requests_total{route="/b"} 9e18\n';
  t.equal(sumRuntimeRequests(absurd, RUNTIME_RESERVED_PREFIX), RUNTIME_REQUESTS_MAX, 'a runtime cannot report more than the bound');
});
