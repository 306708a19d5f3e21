import path from 'node:path';
import { createReconciler, createTargetRegistry, kubernetesTargetSettings, type LocalTarget, localTargetSettings, type Reconciler, targetsFromSettings } from '@wharf/reconciler';
import type { agentSettings, SettingsOf } from '@wharf/contracts';
import { createSource, type LocalWatcher } from '@wharf/source';
import { type DatabasePool, repositories, tenantPlans, tenants } from '@wharf/store';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface LocalStack {
  tenantId: number;
  target: LocalTarget;
  reconciler: Reconciler;
  stop(): Promise<void>;
}

/**
 * The local GitOps loop of `wharf up`: the local owner as tenant, the working copy as repository, the source
 * watching its refs, the local target (runtimes behind the router) and the reconciler between them.
 */
export async function startLocalStack(options: {
  pool: DatabasePool;
  databaseUrl: string;
  log: Logger;
  registry: Registry;
  repoPath: string;
  /** Absolute. */
  dataDir: string;
  settings: SettingsOf<typeof localTargetSettings> & SettingsOf<typeof kubernetesTargetSettings> & SettingsOf<typeof agentSettings>;
}): Promise<LocalStack> {
  const { pool, log } = options;
  const tenant = await tenants.upsertTenant(pool, { kind: 'local', externalId: 'local', name: 'local' });
  const repository = await repositories.upsertRepository(pool, {
    tenantId: tenant.id,
    provider: 'local',
    fullName: path.basename(options.repoPath),
    url: options.repoPath,
    defaultBranch: 'main',
  });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err) => log.warn({ err }, 'stop step failed'));
  };
  try {
    // The local owner's environments keep the friendly `<env>--<app>` URLs; every other tenant's get derived labels.
    const { local, ...others } = targetsFromSettings(options.settings, options.dataDir, { pool, tenantPlan: (id) => tenantPlans.planOfTenant(pool, id) });
    const config = { ...others, ...(local ? { local: { ...local, friendlyTenantId: tenant.id } } : {}) };
    const targets = await createTargetRegistry(config, { log: log.child({ component: 'targets' }) });
    stops.push(() => targets.close());
    const target = targets.get('local');
    if (!target) throw new Error('the target registry built no local target');
    const reconciler = createReconciler({
      pool,
      databaseUrl: options.databaseUrl,
      targets,
      log: log.child({ component: 'reconciler' }),
      registry: options.registry,
    });
    await reconciler.start();
    stops.push(() => reconciler.stop());
    const source = createSource({ pool, cacheDir: path.join(options.dataDir, 'cache'), log: log.child({ component: 'source' }) });
    const watcher: LocalWatcher = await source.watchLocalRepository({ repository, path: options.repoPath });
    stops.push(() => watcher.close());
    return { tenantId: tenant.id, target, reconciler, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
