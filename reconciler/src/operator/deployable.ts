/**
 * The operator as a deployable (`reconciler --operator`, `wharf operator`, the chart's operator Deployment): settings
 * (every problem at once), logger, cluster credentials, the operator with leader election, and `/healthz`, `/readyz`
 * (caches filled, or standing by) and `/metrics`. Needs no database: its store is the WorkflowApp resources.
 */
import { hostname } from 'node:os';
import { loadSettings, REDACT_PATHS, StartupError } from '@wharf/contracts';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startHealthServer } from '../health-server.js';
import { connectCluster } from '../kubernetes/cluster-connection.js';
import { KubeconfigError } from '../kubernetes/kubeconfig.js';
import type { ChildrenConfig } from './children/desired-children.js';
import { createOperator } from './operator.js';
import { operatorSettings, type OperatorSettings } from './settings.js';

export function childrenConfigFrom(settings: OperatorSettings): ChildrenConfig {
  const route = settings.WHARF_OPERATOR_ROUTE === 'httproute' ? 'httproute' : settings.WHARF_OPERATOR_ROUTE === 'none' ? 'none' : 'ingress';
  if (route === 'httproute' && !settings.WHARF_OPERATOR_GATEWAY) throw new StartupError('WHARF_OPERATOR_ROUTE=httproute needs WHARF_OPERATOR_GATEWAY (namespace/name of the Gateway)');
  return {
    runtimeImage: settings.WHARF_RUNTIME_IMAGE,
    allowedImages: (settings.WHARF_OPERATOR_ALLOWED_IMAGES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    allowCommand: settings.WHARF_OPERATOR_ALLOW_COMMAND,
    route,
    ...(settings.WHARF_OPERATOR_GATEWAY ? { gateway: settings.WHARF_OPERATOR_GATEWAY } : {}),
    ...(settings.WHARF_OPERATOR_CLUSTER_ISSUER ? { clusterIssuer: settings.WHARF_OPERATOR_CLUSTER_ISSUER } : {}),
    ...(settings.WHARF_OPERATOR_STORAGE_CLASS ? { storageClass: settings.WHARF_OPERATOR_STORAGE_CLASS } : {}),
    storageSize: settings.WHARF_OPERATOR_STORAGE_SIZE,
  };
}

export interface RunningOperator {
  url: string;
  stop(): Promise<void>;
}

/** Starts the operator from environment variables; `onFatal` is called when it must exit (it lost the Lease). */
export async function startOperatorDeployable(env: Record<string, string | undefined>, onFatal: (reason: string) => void = () => {}): Promise<RunningOperator> {
  const settings = loadSettings(operatorSettings, env);
  const config = childrenConfigFrom(settings);
  const log = pino({ level: settings.WHARF_LOG_LEVEL, redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' } }).child({ component: 'operator' });
  let conn;
  let leaseConn;
  try {
    conn = await connectCluster(settings.WHARF_KUBECONFIG, null, log);
    // The Lease has a connection of its own: a renewal must not queue behind thousands of child writes.
    leaseConn = await connectCluster(settings.WHARF_KUBECONFIG, null, log, { maxConcurrent: 2, timeoutMs: Math.floor((settings.WHARF_OPERATOR_LEASE_SECONDS * 1000) / 3) });
  } catch (err) {
    if (err instanceof KubeconfigError || (err as Error).message?.includes('ENOENT')) throw new StartupError((err as Error).message);
    throw err;
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const identity = settings.WHARF_OPERATOR_ID ?? hostname();
  const operator = createOperator({
    api: conn.api,
    config,
    log,
    concurrency: settings.WHARF_OPERATOR_CONCURRENCY,
    resyncMs: settings.WHARF_OPERATOR_RESYNC_SECONDS * 1000,
    leaderElection: { namespace: settings.WHARF_OPERATOR_LEASE_NAMESPACE, name: settings.WHARF_OPERATOR_LEASE_NAME, identity, leaseSeconds: settings.WHARF_OPERATOR_LEASE_SECONDS, api: leaseConn.api },
    onLostLeadership: () => onFatal('lost the leader Lease'),
    registry,
  });
  await operator.start();
  const health = await startHealthServer({
    host: settings.WHARF_OPERATOR_HOST,
    port: settings.WHARF_OPERATOR_PORT,
    registry,
    ready: async () => {
      // A standby is ready (it waits for the Lease); the leader once its caches are filled.
      if (operator.isLeader && !operator.synced) throw new Error('filling the caches');
    },
  });
  log.info({ health: health.url, identity, server: conn.api.http.server, route: config.route }, 'operator running');
  return {
    url: health.url,
    async stop() {
      await operator.stop();
      await health.close();
      conn.close();
      leaseConn.close();
      log.flush();
    },
  };
}
