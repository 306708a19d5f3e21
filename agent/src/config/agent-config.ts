/**
 * agent.yaml: read, validated against its schema with every problem at `file:line:column`, and resolved (paths
 * relative to the file, secrets read from their files). `removeRegistrationToken` rewrites the file without the
 * bootstrap token, keeping its comments and layout.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { EnvironmentAgentConfig } from '../environment/environment-agent.js';
import { agentConfigSchema } from './agent-config-schema.js';

export interface AgentConfigFile {
  name?: string;
  stateDir?: string;
  controlPlane: { url: string; registrationToken?: string };
  proxmox: { url: string; tokenId: string; tokenSecret?: string; tokenSecretFile?: string; fingerprint: string; pool?: string };
  guest: EnvironmentAgentConfig['guest'];
  ssh?: { privateKeyFile?: string; port?: number };
  runtime?: { appPort?: number; packageDir?: string };
  timeouts?: { addressSeconds?: number; healthSeconds?: number };
  concurrency?: number;
}

export interface AgentConfig {
  file: string;
  name: string;
  stateDir: string;
  controlPlaneUrl: string;
  registrationToken?: string;
  proxmox: { url: string; tokenId: string; tokenSecret: string; fingerprint256: string; pool?: string };
  guest: EnvironmentAgentConfig['guest'];
  sshKeyFile: string;
  sshPort: number;
  appPort: number;
  runtimePackageDir?: string;
  addressTimeoutMs: number;
  healthTimeoutMs: number;
  concurrency: number;
}

export class AgentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'StartupError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(agentConfigSchema);

function position(doc: Document, counter: LineCounter, err: ErrorObject): string {
  const keys = err.instancePath.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = (keys.length ? doc.getIn(keys, true) : doc.contents) as Node | undefined;
  const extra = (err.params as { additionalProperty?: string }).additionalProperty;
  if (extra && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === extra);
    if (pair && isScalar(pair.key)) node = pair.key;
  }
  const range = node?.range ?? doc.contents?.range;
  const { line, col } = range ? counter.linePos(range[0]) : { line: 1, col: 1 };
  return `${line}:${col}`;
}

const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new AgentConfigError([`${file}: cannot read the agent config (${err.code ?? err.message})`]);
  });
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new AgentConfigError(doc.errors.map((e) => `${file}:${e.linePos?.[0]?.line ?? 1}:${e.linePos?.[0]?.col ?? 1}: ${e.message.split('\n')[0]}`));
  }
  const raw = doc.toJS() as unknown;
  if (!validate(raw)) {
    // oneOf reports each branch; keep the errors of the branch that matches the given kind.
    const kind = (raw as { guest?: { kind?: string } } | null)?.guest?.kind;
    const errors = (validate.errors ?? []).filter((e) => {
      if (!e.schemaPath.includes('/guest/oneOf/')) return !(e.keyword === 'oneOf');
      const branch = e.schemaPath.includes('/oneOf/0/') ? 'qemu' : 'lxc';
      return kind ? branch === kind : branch === 'qemu';
    });
    const extra = (e: ErrorObject) => (e.params as { additionalProperty?: string }).additionalProperty;
    throw new AgentConfigError(errors.map((e) => `${file}:${position(doc, counter, e)}: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra(e) ? ` (${extra(e)})` : ''}`));
  }
  const c = raw as AgentConfigFile;
  const dir = path.dirname(path.resolve(file));
  const resolve = (p: string) => path.resolve(dir, p);
  const problems: string[] = [];
  const cp = new URL(c.controlPlane.url);
  if (cp.protocol === 'http:' && !isLoopback(cp.hostname)) {
    problems.push(`${file}: controlPlane.url must be https:// (plain http is allowed only to a loopback address): credentials and secrets travel on it`);
  }
  if (!!c.proxmox.tokenSecret === !!c.proxmox.tokenSecretFile) problems.push(`${file}: proxmox: set exactly one of tokenSecret and tokenSecretFile`);
  let tokenSecret = c.proxmox.tokenSecret ?? '';
  if (c.proxmox.tokenSecretFile) {
    tokenSecret = (await readFile(resolve(c.proxmox.tokenSecretFile), 'utf8').catch(() => {
      problems.push(`${file}: proxmox.tokenSecretFile ${c.proxmox.tokenSecretFile} cannot be read`);
      return '';
    })).trim();
  }
  if (problems.length > 0) throw new AgentConfigError(problems);
  const stateDir = resolve(c.stateDir ?? 'wharf-agent-state');
  return {
    file: path.resolve(file),
    name: c.name ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63),
    stateDir,
    controlPlaneUrl: c.controlPlane.url.replace(/\/+$/, ''),
    ...(c.controlPlane.registrationToken ? { registrationToken: c.controlPlane.registrationToken } : {}),
    proxmox: { url: c.proxmox.url, tokenId: c.proxmox.tokenId, tokenSecret, fingerprint256: c.proxmox.fingerprint, ...(c.proxmox.pool ? { pool: c.proxmox.pool } : {}) },
    guest: c.guest,
    sshKeyFile: c.ssh?.privateKeyFile ? resolve(c.ssh.privateKeyFile) : path.join(stateDir, 'id_ed25519'),
    sshPort: c.ssh?.port ?? 22,
    appPort: c.runtime?.appPort ?? 8080,
    ...(c.runtime?.packageDir ? { runtimePackageDir: resolve(c.runtime.packageDir) } : {}),
    addressTimeoutMs: (c.timeouts?.addressSeconds ?? 180) * 1000,
    healthTimeoutMs: (c.timeouts?.healthSeconds ?? 60) * 1000,
    concurrency: c.concurrency ?? 4,
  };
}

/** Rewrites the config without `controlPlane.registrationToken` (atomically; comments and layout kept). */
export async function removeRegistrationToken(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8');
  const doc = parseDocument(text);
  if (!doc.hasIn(['controlPlane', 'registrationToken'])) return false;
  doc.deleteIn(['controlPlane', 'registrationToken']);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, doc.toString(), { mode: 0o600 });
  await rename(tmp, file);
  return true;
}
