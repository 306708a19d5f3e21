/**
 * The agent as a program: what `wharf agent run|register|rotate|status|logs|build-runtime` do on the agent's host.
 * `runAgent` only wires: the config (every problem at once), the credential, the SSH key, the Proxmox client, the
 * state, the runtime package, the loop; then waits for the stop signal. Nothing here reads the environment: the CLI
 * passes what it needs.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { loadAgentConfig, removeRegistrationToken, type AgentConfig } from './config/agent-config.js';
import { createControlPlaneClient } from './control-plane/control-plane-client.js';
import { readCredentials, writeCredentials, type AgentCredentials } from './control-plane/credentials-file.js';
import { createEnvironmentAgent } from './environment/environment-agent.js';
import { type AgentLog, createAgentLoop } from './loop/agent-loop.js';
import { createLoopFiles, readView } from './loop/loop-files.js';
import { createPveHttp } from './proxmox/pve-http.js';
import { createPveClient } from './proxmox/pve-client.js';
import { buildRuntimePackage, readRuntimePackage, type RuntimePackage, writeRuntimePackage } from './runtime-package/runtime-package.js';
import { openStateStore } from './state/agent-state.js';

export const AGENT_VERSION = '0.1.0';

export class AgentSetupError extends Error {
  override name = 'StartupError';
}

async function ensureSshKey(file: string): Promise<{ private: string; public: string }> {
  if (existsSync(file)) {
    const priv = await readFile(file, 'utf8');
    const parsed = ssh2.utils.parseKey(priv);
    if (parsed instanceof Error) throw new AgentSetupError(`${file} is not an OpenSSH private key: ${parsed.message}`);
    const key = Array.isArray(parsed) ? parsed[0]! : parsed;
    return { private: priv, public: `${key.type} ${key.getPublicSSH().toString('base64')} wharf-agent` };
  }
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'wharf-agent' });
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, pair.private, { mode: 0o600 });
  await writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
  return pair;
}

/** A random id made on first start and kept in the state dir: the agent's guest tags, stable across re-registration. */
async function guestOwnerId(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'owner-id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const id = randomUUID();
    await writeFile(file, `${id}\n`, { mode: 0o600, flag: 'wx' }).catch(async () => undefined);
    return (await readFile(file, 'utf8')).trim();
  }
}

async function credentialsOf(config: AgentConfig): Promise<AgentCredentials> {
  const creds = await readCredentials(config.stateDir);
  if (!creds) {
    throw new AgentSetupError(`this agent is not registered (no ${path.join(config.stateDir, 'credentials.json')}): run \`wharf agent register --config ${config.file}\` with a registration token first`);
  }
  return creds;
}

export interface RegisterInput {
  configFile: string;
  url?: string;
  token?: string;
  name?: string;
}

/**
 * Exchanges the registration token (from --token, or the config's controlPlane.registrationToken) for this agent's
 * credential, keeps it in the state dir and removes the token from the config. A config that already registered is
 * refused: register anew only after removing its credentials file (and revoking the old agent).
 */
export async function registerAgent(input: RegisterInput): Promise<AgentCredentials> {
  const config = await loadAgentConfig(input.configFile);
  const existing = await readCredentials(config.stateDir);
  if (existing) {
    throw new AgentSetupError(
      `already registered as agent ${existing.agentId} (${existing.name}, pool ${existing.pool}) with ${existing.controlPlaneUrl}; a registration token is used once per agent. To register anew, revoke that agent (wharf agent revoke ${existing.agentId}) and remove ${path.join(config.stateDir, 'credentials.json')}`,
    );
  }
  const token = input.token ?? config.registrationToken;
  if (!token) throw new AgentSetupError(`no registration token: pass --token or set controlPlane.registrationToken in ${config.file}`);
  const url = (input.url ?? config.controlPlaneUrl).replace(/\/+$/, '');
  const client = createControlPlaneClient({ url, userAgent: `wharf-agent/${AGENT_VERSION}` });
  const name = input.name ?? config.name;
  const answer = await client.register({ token, name, hostname: hostname().slice(0, 253), version: AGENT_VERSION });
  const creds: AgentCredentials = { agentId: answer.agentId, name: answer.name, pool: answer.pool, controlPlaneUrl: url, credential: answer.credential, registeredAt: new Date().toISOString() };
  await writeCredentials(config.stateDir, creds);
  await removeRegistrationToken(config.file);
  return creds;
}

/** A new credential from the control plane, written in place of the old one (which stops working once the new one is used). */
export async function rotateAgentCredential(configFile: string): Promise<AgentCredentials> {
  const config = await loadAgentConfig(configFile);
  const creds = await credentialsOf(config);
  const client = createControlPlaneClient({ url: creds.controlPlaneUrl, credential: creds.credential, userAgent: `wharf-agent/${AGENT_VERSION}` });
  const { credential } = await client.rotate();
  const next = { ...creds, credential, rotatedAt: new Date().toISOString() };
  await writeCredentials(config.stateDir, next);
  // Use it once, so the control plane retires the old one now rather than at the agent's next poll.
  client.setCredential(credential);
  await client.desired(undefined).catch(() => undefined);
  return next;
}

function runtimeLoader(config: AgentConfig): () => Promise<RuntimePackage> {
  let pkg: Promise<RuntimePackage> | undefined;
  return () => {
    pkg ??= (config.runtimePackageDir ? readRuntimePackage(config.runtimePackageDir) : buildRuntimePackage()).catch((err: unknown) => {
      pkg = undefined;
      throw err;
    });
    return pkg;
  };
}

export interface RunningAgent {
  loop: ReturnType<typeof createAgentLoop>;
  stop(): Promise<void>;
}

/** Starts the agent: polls, applies, reports until `stop()`. */
export async function startAgent(configFile: string, log: AgentLog & { child?: unknown }, options: { resyncMs?: number } = {}): Promise<RunningAgent> {
  const config = await loadAgentConfig(configFile);
  if (config.registrationToken) {
    throw new AgentSetupError(`${config.file} still holds a registration token: run \`wharf agent register --config ${config.file}\` first (it removes the token)`);
  }
  const creds = await credentialsOf(config);
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  await chmod(config.stateDir, 0o700);
  const keys = await ensureSshKey(config.sshKeyFile);
  const pve = createPveClient(createPveHttp({ url: config.proxmox.url, tokenId: config.proxmox.tokenId, tokenSecret: config.proxmox.tokenSecret, fingerprint256: config.proxmox.fingerprint256 }));
  const state = await openStateStore(path.join(config.stateDir, 'state.json'));
  const environments = createEnvironmentAgent({
    pve,
    state,
    config: {
      agentId: await guestOwnerId(config.stateDir),
      ...(config.proxmox.pool ? { pool: config.proxmox.pool } : {}),
      guest: config.guest,
      sshPrivateKey: keys.private,
      sshPublicKey: keys.public,
      sshPort: config.sshPort,
      appPort: config.appPort,
      addressTimeoutMs: config.addressTimeoutMs,
      healthTimeoutMs: config.healthTimeoutMs,
    },
  });
  const client = createControlPlaneClient({ url: creds.controlPlaneUrl, credential: creds.credential, userAgent: `wharf-agent/${AGENT_VERSION}` });
  const loop = createAgentLoop({
    client,
    environments,
    state,
    files: createLoopFiles(config.stateDir),
    runtime: runtimeLoader(config),
    log,
    identity: { agentId: creds.agentId, name: creds.name, pool: creds.pool, controlPlaneUrl: creds.controlPlaneUrl },
    concurrency: config.concurrency,
    ...(options.resyncMs ? { resyncMs: options.resyncMs } : {}),
  });
  await loop.start();
  log.info({ agentId: creds.agentId, pool: creds.pool, controlPlane: creds.controlPlaneUrl, proxmox: config.proxmox.url }, 'agent running');
  return { loop, stop: () => loop.stop() };
}

/** `wharf agent status`: the agent's own view, from its state dir (works while the control plane is away). */
export async function agentStatusText(configFile: string, options: { json?: boolean } = {}): Promise<string> {
  const config = await loadAgentConfig(configFile);
  const creds = await readCredentials(config.stateDir);
  const view = await readView(config.stateDir);
  if (options.json) return `${JSON.stringify({ registered: creds ? { agentId: creds.agentId, name: creds.name, pool: creds.pool, controlPlaneUrl: creds.controlPlaneUrl } : null, view: view ?? null }, null, 2)}\n`;
  if (!creds) return `not registered: run \`wharf agent register --config ${config.file}\`\n`;
  const lines = [`agent ${creds.agentId} (${creds.name}) in pool ${creds.pool}, control plane ${creds.controlPlaneUrl}`];
  if (!view) return `${lines[0]}\nnot started yet (no status.json in ${config.stateDir})\n`;
  const cp = view.controlPlane;
  lines.push(`control plane: ${cp.state}${cp.lastContactAt ? `, last contact ${cp.lastContactAt}` : ''}${cp.lastError ? ` (${cp.lastError})` : ''}`);
  lines.push(`status as of ${view.updatedAt}`);
  if (view.environments.length === 0) lines.push('no environments');
  else {
    const rows = view.environments.map((e) => [
      `${e.app}/${e.env}`,
      `#${e.environmentId}`,
      e.state + (e.reason ? ` (${e.reason})` : ''),
      e.guest ? `${e.guest.kind === 'qemu' ? 'vm' : 'ct'} ${e.guest.vmid}@${e.guest.node}` : '-',
      e.url ?? '-',
    ]);
    const header = ['ENVIRONMENT', 'ID', 'STATE', 'GUEST', 'URL'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    lines.push(fmt(header), ...rows.map(fmt));
    for (const e of view.environments) if (e.message) lines.push(`  ${e.app}/${e.env}: ${e.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `wharf agent logs APP/ENV`: the live slot's output, read over SSH from the environment's guest. */
export async function agentLogs(configFile: string, environmentId: number, lines: number): Promise<string> {
  const config = await loadAgentConfig(configFile);
  await credentialsOf(config);
  const keys = await ensureSshKey(config.sshKeyFile);
  const pve = createPveClient(createPveHttp({ url: config.proxmox.url, tokenId: config.proxmox.tokenId, tokenSecret: config.proxmox.tokenSecret, fingerprint256: config.proxmox.fingerprint256 }));
  const state = await openStateStore(path.join(config.stateDir, 'state.json'));
  const known = Object.values(state.read().environments).find((e) => e.uid === `environment:${environmentId}`);
  if (!known) throw new AgentSetupError(`this agent runs no environment #${environmentId} (see \`wharf agent status\`)`);
  const environments = createEnvironmentAgent({
    pve,
    state,
    config: { agentId: await guestOwnerId(config.stateDir), guest: config.guest, sshPrivateKey: keys.private, sshPublicKey: keys.public, sshPort: config.sshPort, addressTimeoutMs: config.addressTimeoutMs },
  });
  return environments.logs({ app: known.app, env: known.env, uid: known.uid }, lines);
}

export async function buildRuntimeTo(dir: string): Promise<number> {
  const pkg = await buildRuntimePackage();
  await writeRuntimePackage(pkg, dir);
  return pkg.bundle.length + pkg.support.reduce((n, f) => n + f.content.length, 0);
}
