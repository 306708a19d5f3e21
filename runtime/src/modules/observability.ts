import type { ModuleSpec } from '../config/app-config.js';
import type { RouteTable } from '../http/http-types.js';
import type { ModuleDeps, RuntimeModule } from './module.js';

const path = (v: unknown, fallback: string) => (typeof v === 'string' && v.startsWith('/') ? v : fallback);

/** Adds a GET route unless the app declares that path itself (the engine's wiring hooks check HasRoute the same way). */
function addIfFree(table: RouteTable, pattern: string, handler: Parameters<RouteTable['add']>[2]): void {
  if (!table.has?.('GET', pattern)) table.add('GET', pattern, handler);
}

/**
 * health.checker: the engine's HealthChecker. GET `healthPath` (/healthz) answers `{"status":"healthy","checks":{}}`,
 * `readyPath` (/readyz) `{"status":"ready"}` once the runtime listens (503 `not_ready` before), `livePath` (/livez)
 * `{"status":"alive"}`. These are the app's own endpoints; Wharf's check stays at /.wharf/healthz.
 */
export function createHealthChecker(spec: ModuleSpec): RuntimeModule {
  let started = false;
  return {
    name: spec.name,
    type: spec.type,
    start() {
      started = true;
    },
    registerRoutes(table) {
      addIfFree(table, path(spec.config.healthPath, '/healthz'), () => ({ status: 200, body: { status: 'healthy', checks: {} } }));
      addIfFree(table, path(spec.config.readyPath, '/readyz'), () => (started ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'not_ready' } }));
      addIfFree(table, path(spec.config.livePath, '/livez'), () => ({ status: 200, body: { status: 'alive' } }));
    },
  };
}

/** metrics.collector: the engine's MetricsCollector; GET `metricsPath` (/metrics) serves the runtime's Prometheus metrics. */
export function createMetricsCollector(spec: ModuleSpec, deps: ModuleDeps): RuntimeModule {
  return {
    name: spec.name,
    type: spec.type,
    registerRoutes(table) {
      addIfFree(table, path(spec.config.metricsPath, '/metrics'), () => ({ status: 200, headers: { 'content-type': deps.metrics.contentType }, text: deps.metrics.render() }));
    },
  };
}

/**
 * log.collector: the engine's LogCollector. GET /logs answers `{count, entries, config}`; the entries come from
 * modules that emit logs to it, and no module of this runtime does (the runtime's own log never reaches HTTP).
 */
export function createLogCollector(spec: ModuleSpec): RuntimeModule {
  const config = {
    logLevel: typeof spec.config.logLevel === 'string' ? spec.config.logLevel : '',
    outputFormat: typeof spec.config.outputFormat === 'string' ? spec.config.outputFormat : '',
    retentionDays: typeof spec.config.retentionDays === 'number' ? spec.config.retentionDays : 0,
  };
  return {
    name: spec.name,
    type: spec.type,
    registerRoutes(table) {
      addIfFree(table, '/logs', () => ({ status: 200, body: { count: 0, entries: [], config } }));
    },
  };
}
