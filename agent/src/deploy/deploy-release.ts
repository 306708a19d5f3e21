/**
 * Deploys one release of an environment's runtime to its guest over SSH, without downtime where the guest allows:
 * upload the release atomically, start it in the idle slot, wait until it reports the release's digest on the
 * reserved health path, point the guest proxy at it (one atomic rename), then stop the old slot. A release that
 * never gets healthy is stopped and the old one keeps serving.
 */
import { createHash } from 'node:crypto';
import { RUNTIME_FLAGS } from '@wharf/contracts/runtime-protocol';
import { AgentError } from '../errors.js';
import { sleep } from '../sleep.js';
import { GUEST_PROXY_MJS } from './guest-proxy.js';
import { guestLayout, slotPorts, SLOTS, type GuestLayout, type Slot } from './guest-layout.js';
import { checkHealth } from './health-check.js';
import { detectServiceManager, SERVICE_LOG, type ServiceManager, type ServiceSpec } from './service-manager.js';
import { sq, type SshSession } from './ssh-session.js';
import { assertSafeRelative, uploadDirectoryAtomically, writeFileAtomically, type UploadFile } from './upload-atomic.js';

export interface RuntimeRelease {
  /** The version's digest; the runtime must report it on the health path. */
  digest: string;
  /** The runtime's entry point (runtime.mjs), run with the guest's `node`. */
  bundle: Buffer;
  /** Files the runtime loads beside its entry point (e.g. node_modules/<wasm package>/…). */
  support?: UploadFile[];
  /** Workflow config files (a path inside the release's config directory → content). */
  configs: { name: string; content: string }[];
  env?: Record<string, string>;
}

export interface DeployTarget {
  ssh: SshSession;
  /** The guest's address: the proxy listens there, and the URL points there. */
  address: string;
  /** Login user (services run as this user). */
  user: string;
  envKey: string;
  appPort: number;
  description: string;
  /** node on the guest (default: `node` from PATH). */
  nodeBinary?: string;
  serviceManager?: ServiceManager;
  healthTimeoutMs?: number;
  pollMs?: number;
  /** How long the old slot keeps running after the switch, for connections already open. */
  drainMs?: number;
}

export interface DeployResult {
  url: string;
  slot: Slot;
  port: number;
  releaseId: string;
  serviceManager: ServiceManager['kind'];
  /** False when the release was already live and healthy (nothing changed). */
  changed: boolean;
}

const CONFIG_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const configNameOk = (name: string) => name.length <= 1024 && name.split('/').every((s) => CONFIG_SEGMENT.test(s));

/** The runtime package's id: its entry point and support files, by content. */
export function runtimeId(release: Pick<RuntimeRelease, 'bundle' | 'support'>): string {
  const h = createHash('sha256').update(release.bundle);
  for (const f of [...(release.support ?? [])].sort((a, b) => a.path.localeCompare(b.path))) h.update('\0').update(f.path).update('\0').update(f.content);
  return h.digest('hex').slice(0, 16);
}
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function releaseId(release: RuntimeRelease): string {
  const h = createHash('sha256').update(release.digest).update('\0').update(runtimeId(release));
  for (const c of [...release.configs].sort((a, b) => a.name.localeCompare(b.name))) h.update('\0').update(c.name).update('\0').update(c.content);
  for (const [k, v] of Object.entries(release.env ?? {}).sort()) h.update('\0').update(k).update('=').update(v);
  return h.digest('hex').slice(0, 16);
}

export function renderRunScript(layout: GuestLayout, id: string, release: RuntimeRelease, port: number, node: string): string {
  const dir = `${layout.releases}/${id}`;
  const args = [
    ...release.configs.flatMap((c) => [RUNTIME_FLAGS.config, `${dir}/config/${c.name}`]),
    '--config-root', `${dir}/config`,
    RUNTIME_FLAGS.port, String(port),
    RUNTIME_FLAGS.host, '127.0.0.1',
    RUNTIME_FLAGS.dataDir, layout.data,
    RUNTIME_FLAGS.digest, release.digest,
  ];
  const env = Object.entries(release.env ?? {}).map(([k, v]) => `export ${k}=${sq(v)}`);
  const entry = `${layout.runtime(runtimeId(release))}/runtime.mjs`;
  return ['#!/bin/sh', `# release ${id}`, ...env, `exec ${sq(node)} --max-old-space-size=256 ${sq(entry)} ${args.map(sq).join(' ')}`, ''].join('\n');
}

function validate(release: RuntimeRelease): void {
  if (release.configs.length === 0) throw new AgentError('DeployFailed', 'a release needs at least one config file');
  for (const c of release.configs) if (!configNameOk(c.name)) throw new AgentError('DeployFailed', `config file name not allowed on a guest: ${JSON.stringify(c.name)}`);
  for (const f of release.support ?? []) assertSafeRelative(f.path);
  for (const k of Object.keys(release.env ?? {})) if (!ENV_NAME.test(k)) throw new AgentError('DeployFailed', `environment variable name not allowed: ${JSON.stringify(k)}`);
  if (!/^[A-Za-z0-9:._-]{1,128}$/.test(release.digest)) throw new AgentError('DeployFailed', `digest has unexpected characters: ${JSON.stringify(release.digest)}`);
}

async function readText(ssh: SshSession, path: string): Promise<string | undefined> {
  const r = await ssh.exec(`cat ${sq(path)} 2>/dev/null`);
  return r.code === 0 ? r.stdout : undefined;
}

export async function lastLogLines(ssh: SshSession, dir: string, lines = 40): Promise<string> {
  return (await ssh.exec(`tail -n ${Math.max(1, Math.min(lines, 10_000))} ${sq(`${dir}/${SERVICE_LOG}`)} 2>/dev/null`)).stdout;
}

export async function guestHome(ssh: SshSession): Promise<string> {
  const home = (await ssh.run('printf %s "$HOME"', 'reading the home directory')).trim();
  if (!home.startsWith('/')) throw new AgentError('DeployFailed', `the guest user's home is not an absolute path: ${home}`);
  return home;
}

async function waitForProxy(ssh: SshSession, address: string, port: number, deadline: number): Promise<void> {
  for (;;) {
    try {
      const stream = await ssh.forward(address, port);
      stream.destroy();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new AgentError('DeployFailed', `the guest proxy did not start listening on ${address}:${port}: ${(err as Error).message}`);
      await sleep(100);
    }
  }
}

export async function deployRelease(target: DeployTarget, release: RuntimeRelease): Promise<DeployResult> {
  validate(release);
  const { ssh } = target;
  const layout = guestLayout(await guestHome(ssh), target.envKey);
  const manager = target.serviceManager ?? (await detectServiceManager(ssh));
  const ports = slotPorts(target.envKey);
  const node = target.nodeBinary ?? 'node';
  const id = releaseId(release);
  const url = `http://${target.address}:${target.appPort}/`;
  const spec = (name: string, dir: string): ServiceSpec => ({ name: `wharf-${target.envKey}-${name}`, description: `${target.description} (${name})`, dir, writableDir: layout.base, user: target.user });

  const runtimeDir = layout.runtime(runtimeId(release));
  await ssh.run(
    `mkdir -p ${[layout.releases, layout.data, layout.proxy, ...SLOTS.map(layout.slot), runtimeDir.replace(/\/[^/]+$/, '')].map(sq).join(' ')} && chmod 700 ${sq(layout.base)}`,
    'creating the environment directories',
  );
  // The runtime is uploaded once per guest and shared; a release is only its config files.
  await uploadDirectoryAtomically(ssh, runtimeDir, [{ path: 'runtime.mjs', content: release.bundle }, ...(release.support ?? [])]);
  await uploadDirectoryAtomically(ssh, `${layout.releases}/${id}`, release.configs.map((c) => ({ path: `config/${c.name}`, content: c.content })));

  const activePort = Number((await readText(ssh, layout.activeFile))?.trim() ?? '0');
  const active = SLOTS.find((s) => ports[s] === activePort);
  if (active && (await readText(ssh, `${layout.slot(active)}/release`))?.trim() === id) {
    const health = await checkHealth(ssh, ports[active]);
    if (health.ok && health.digest === release.digest) return { url, slot: active, port: ports[active], releaseId: id, serviceManager: manager.kind, changed: false };
  }
  const next: Slot = active === 'a' ? 'b' : 'a';
  const slotDir = layout.slot(next);
  await writeFileAtomically(ssh, `${slotDir}/run.sh`, renderRunScript(layout, id, release, ports[next], node), 0o700);
  await writeFileAtomically(ssh, `${slotDir}/release`, `${id}\n`);
  await ssh.run(`: > ${sq(`${slotDir}/${SERVICE_LOG}`)}`, 'clearing the slot log');
  await manager.restart(ssh, spec(next, slotDir));

  const deadline = Date.now() + (target.healthTimeoutMs ?? 60_000);
  let health = await checkHealth(ssh, ports[next]);
  for (let polls = 0; !(health.ok && health.digest === release.digest); polls++) {
    if (Date.now() > deadline) {
      const log = await lastLogLines(ssh, slotDir, 20);
      await manager.stop(ssh, spec(next, slotDir));
      const seen = health.digest ? `it reports digest ${health.digest}` : health.problem ?? `HTTP ${health.status}`;
      throw new AgentError('RuntimeUnhealthy', `release ${id} of ${target.description} did not become healthy with digest ${release.digest} (${seen}); ${active ? 'the previous release keeps serving' : 'nothing is serving yet'}. Last log lines:\n${log}`, { details: { releaseId: id, log } });
    }
    // A runtime usually answers within a second: look again soon at first, then every pollMs.
    await sleep(Math.min(target.pollMs ?? 250, 50 * 2 ** polls));
    health = await checkHealth(ssh, ports[next]);
  }

  await writeFileAtomically(ssh, layout.activeFile, `${ports[next]}\n`);
  const proxyRun = ['#!/bin/sh', `exec ${sq(node)} ${sq(`${layout.proxy}/proxy.mjs`)} ${sq(target.address)} ${target.appPort} ${sq(layout.activeFile)}`, ''].join('\n');
  const proxySpec = spec('proxy', layout.proxy);
  const proxyCurrent = (await readText(ssh, `${layout.proxy}/proxy.mjs`)) === GUEST_PROXY_MJS && (await readText(ssh, `${layout.proxy}/run.sh`)) === proxyRun;
  if (!proxyCurrent || !(await manager.isRunning(ssh, proxySpec))) {
    await writeFileAtomically(ssh, `${layout.proxy}/proxy.mjs`, GUEST_PROXY_MJS);
    await writeFileAtomically(ssh, `${layout.proxy}/run.sh`, proxyRun, 0o700);
    await manager.restart(ssh, proxySpec);
    await waitForProxy(ssh, target.address, target.appPort, deadline);
  }
  if (active) {
    await sleep(target.drainMs ?? 2_000);
    await manager.stop(ssh, spec(active, layout.slot(active)));
  }
  return { url, slot: next, port: ports[next], releaseId: id, serviceManager: manager.kind, changed: true };
}

/** The live slot's recent output (for `wharf logs`). */
export async function collectLogs(ssh: SshSession, envKey: string, lines = 200): Promise<string> {
  const layout = guestLayout(await guestHome(ssh), envKey);
  const ports = slotPorts(envKey);
  const activePort = Number((await readText(ssh, layout.activeFile))?.trim() ?? '0');
  const active = SLOTS.find((s) => ports[s] === activePort);
  return active ? lastLogLines(ssh, layout.slot(active), lines) : '';
}
