/**
 * The agent loop in one process for tests: a control plane (the agent API on a real HTTP port, the reconciler with
 * the agent target, a real database) and agents (the real loop, environment agent and Proxmox client against the
 * strict fake, whose guests are real sshd). Each agent gets a pool of its own, so each test decides exactly what runs
 * where.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { agentPolicyFrom, environmentState, formatState, loadSettings, type WorkflowAppSpec } from '@wharf/contracts';
import {
  createAgentLoop,
  createControlPlaneClient,
  createEnvironmentAgent,
  createLoopFiles,
  createPveClient,
  createPveHttp,
  type EnvironmentAgentConfig,
  openStateStore,
  type RuntimePackage,
} from '@wharf/agent';
import { createReconciler, createTargetRegistry, localTargetSettings, targetsFromSettings } from '@wharf/reconciler';
import { agents, type DatabasePool, environmentViews, EVERY_TENANT } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { type FakeProxmox, seedRepository, silentLog, TINY_RUNTIME_BIN } from '@wharf/testkit';
import { build } from 'esbuild';
import ssh2 from 'ssh2';
import { buildServer, buildUnits, controlPlaneSettings, createAgentApiUnit } from '@wharf/webhook-app';
import { Registry } from 'prom-client';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

const settingsEnv = { WHARF_AGENT_STALE_AFTER: '2', WHARF_AGENT_OFFLINE_AFTER: '4', WHARF_AGENT_POLL_HOLD: '5' };

export async function startControlPlane(t: Teardown, db: { url: string; pool: DatabasePool }) {
  const settings = loadSettings(controlPlaneSettings, { ...settingsEnv, WHARF_PORT: '0' });
  const registry = new Registry();
  const units = await buildUnits({ pool: db.pool, log: silentLog as never, registry, settings, dataDir: '/nonexistent', databaseUrl: db.url }, { agentApi: createAgentApiUnit() });
  const server = await buildServer({ log: silentLog as never, pool: db.pool, registry, version: 'test', units });
  await server.listen({ host: '127.0.0.1', port: 0 });
  for (const u of units) u.start?.();
  const address = server.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const policy = agentPolicyFrom(loadSettings(controlPlaneSettings, settingsEnv));
  const targets = await createTargetRegistry({ agent: targetsFromSettings({ ...loadSettings(localTargetSettings, { WHARF_ROUTER_PORT: '0' }), ...{ WHARF_AGENT_STALE_AFTER: 2, WHARF_AGENT_OFFLINE_AFTER: 4, WHARF_AGENT_REASSIGN_AFTER: 0 } }, '/nonexistent', { pool: db.pool }).agent }, { log: silentLog as never });
  const reconciler = createReconciler({ pool: db.pool, databaseUrl: db.url, targets, log: silentLog as never, pollIntervalMs: 200, progressAfterMs: 0 });
  await reconciler.start();
  t.teardown(async () => {
    await reconciler.stop();
    await targets.close();
    await server.close();
    for (const u of units) await u.stop?.();
  });
  const repo = await seedRepository(db.pool);
  return { url, policy, ...repo };
}

let tiny: Promise<RuntimePackage> | undefined;
/** The tiny runtime as the runtime package (quick to start; the story test runs the real one). */
export const tinyRuntimePackage = (): Promise<RuntimePackage> =>
  (tiny ??= build({ entryPoints: [TINY_RUNTIME_BIN], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent' }).then((r) => ({
    bundle: Buffer.from(r.outputFiles[0]!.contents),
    support: [],
  })));

export const spec = (app: string, env: string, v: string): WorkflowAppSpec => ({
  app,
  environment: env,
  version: { sha: createHash('sha1').update(v).digest('hex'), digest: `sha256:${v}` },
  files: [{ path: 'workflow.yaml', content: `# echo: ${app} ${v}\nmodules: []\n` }],
  runtime: {},
  replicas: 1,
  env: [],
});

export const TOKEN_ID = 'wharf@pve!agent';
export const TOKEN_SECRET = 'harness-secret';

/** Registers an agent into `pool` and runs its loop against `fake`. */
export async function startAgent(
  t: Teardown,
  db: { pool: DatabasePool },
  cp: { url: string; tenantId: number },
  fake: FakeProxmox,
  input: { pool: string; dir: string; guest?: EnvironmentAgentConfig['guest']; addressTimeoutMs?: number; credential?: string; resyncMs?: number },
) {
  const { token } = await agents.createRegistrationToken(db.pool, { tenantId: cp.tenantId }, { pool: input.pool, ttlMs: 60_000, createdBy: 'test' });
  const reg = await agents.registerAgentWithToken(db.pool as never, { token, name: `agent-${input.pool}` });
  if (!reg.ok) throw new Error('registration failed');
  const stateDir = path.join(input.dir, input.pool);
  await mkdir(stateDir, { recursive: true });
  const keys = ssh2.utils.generateKeyPairSync('ed25519');
  const state = await openStateStore(path.join(stateDir, 'state.json'));
  const environments = createEnvironmentAgent({
    pve: createPveClient(createPveHttp({ url: fake.url, tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, fingerprint256: fake.fingerprint256 }), { pollMs: 20 }),
    state,
    config: {
      agentId: `harness-${input.pool}`,
      guest: input.guest ?? { kind: 'qemu', templates: { pve2: 9001 }, full: false, user: 'wharf' },
      sshPrivateKey: keys.private,
      sshPublicKey: keys.public,
      addressTimeoutMs: input.addressTimeoutMs ?? 20_000,
      healthTimeoutMs: 20_000,
      drainMs: 100,
    },
  });
  const loop = createAgentLoop({
    client: createControlPlaneClient({ url: cp.url, credential: input.credential ?? reg.credential }),
    environments,
    state,
    files: createLoopFiles(stateDir),
    runtime: tinyRuntimePackage,
    log: process.env.WHARF_TEST_AGENT_LOG ? { info: (o: object, m?: string) => console.error('info', m, o), warn: (o: object, m?: string) => console.error('warn', m, o), error: (o: object, m?: string) => console.error('error', m, o) } : silentLog,
    identity: { agentId: reg.agent.agentId, name: reg.agent.name, pool: input.pool, controlPlaneUrl: cp.url },
    retryPolicy: { baseMs: 300, maxMs: 2_000, jitter: 'proportional' },
    pollPolicy: { baseMs: 200, maxMs: 1_000, jitter: 'equal' },
    userChangeRetryMs: 60_000,
    ...(input.resyncMs ? { resyncMs: input.resyncMs } : {}),
  });
  await loop.start();
  t.teardown(() => loop.stop(5_000));
  return { loop, agentId: reg.agent.agentId, credential: reg.credential, stateDir, agentTagId: `harness-${input.pool}` };
}

/** An environment of app `app` with target `agent:<pool>`, due now. */
export async function deployTo(db: { pool: DatabasePool }, cp: { tenantId: number; repositoryId: number }, app: string, pool: string, v = 'v1') {
  const [id] = await seedEnvironments(db.pool, [{ tenantId: cp.tenantId, repositoryId: cp.repositoryId, app, name: 'production', kind: 'production', target: `agent:${pool}`, digest: `sha256:${v}`, spec: spec(app, 'production', v) }]);
  return id!;
}

export async function environment(db: { pool: DatabasePool }, id: number) {
  const e = (await environmentViews.listEnvironments(db.pool, EVERY_TENANT)).find((x) => x.id === id);
  if (!e) return undefined;
  return { ...e, state: formatState(environmentState({ conditions: e.conditions })) };
}

export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what}: not within ${seconds} s; last: ${JSON.stringify(last, null, 2)?.slice(0, 3000)}`);
}
