/**
 * `wharf agent …`: pull agents.
 *   On the control plane (the owner): a remote Wharf's REST API, or its database (the local owner's tenant, or --tenant ID):
 *     token create --pool P [--ttl 24h] · token list · token revoke ID · list · revoke AGENT_ID
 *   On the agent's host (agent.yaml):
 *     register --config F [--url URL] [--token T] [--name N] · run --config F · rotate --config F · status --config F
 *     logs --config F ENVIRONMENT_ID · build-runtime --out DIR
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AGENT_POOL_PATTERN, agentPolicyFrom, agentSettings, loadSettings, REGISTRATION_TOKEN_MAX_TTL_MS } from '@wharf/contracts';
import { tenants } from '@wharf/store';
import { type AgentAdmin, localAgentAdmin, remoteAgentAdmin } from '../backend/agent-admin.js';
import { CommandError } from '../backend/backend.js';
import type { CommandIO } from './io.js';

export const agentSummary = 'pull agents: registration tokens, register/run/rotate/status on the agent host, list and revoke';
export const agentHelp = `Usage: wharf agent <subcommand> [options]

On the control plane: a remote Wharf's REST API when one is set (WHARF_URL and WHARF_TOKEN, --context NAME, or the
current context of \`wharf login\`; needs agents:read, agents:manage to change), else its database (DATABASE_URL, or
the embedded one of a running \`wharf up\`):
  token create --pool POOL [--ttl 24h]   a registration token for POOL (shown once; multi-use until it expires)
  token list                             the tenant's registration tokens
  token revoke ID                        revoke a registration token now
  list [--json]                          agents: pool, Connected/Stale/Offline, last seen, environments
  revoke AGENT_ID [--reason TEXT]        revoke an agent now: every call it makes gets 401; its environments move
  (on the database, --tenant ID picks the tenant; default: the local owner of \`wharf up\`)

On the agent's host (agent.yaml, see docs/agent.md):
  register --config FILE [--url URL] [--token TOKEN] [--name NAME]
                                         exchange the registration token for this agent's credential; the token is
                                         removed from FILE and the credential kept in the state dir
  run --config FILE                      run the agent: poll desired state, apply it on Proxmox, report
  rotate --config FILE                   get a new credential (the old one stops working once the new one is used)
  status --config FILE [--json]          the agent's view: control plane contact and each environment's state
  logs --config FILE ENVIRONMENT_ID [--lines N]
                                         the runtime output of one environment, from its guest over SSH
  build-runtime --out DIR                write the runtime package guests get (for runtime.packageDir)`;

const cliActor = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
};

/** `24h`, `30m`, `7d`, `90s` → milliseconds. */
export function parseTtl(text: string): number | undefined {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

/** The owner's side: a remote Wharf's API (WHARF_URL/WHARF_TOKEN, --context, `wharf login`), or this machine's store. */
async function withAdmin(io: CommandIO, options: { context?: string; tenant?: string }, run: (admin: AgentAdmin) => Promise<number>): Promise<number> {
  const { findRemote } = await import('../backend/remote-config.js');
  const remote = await findRemote(io.env, options.context).catch((err: Error) => {
    throw new CommandError(err.message);
  });
  if (remote) {
    if (options.tenant !== undefined) {
      io.stderr('wharf agent: --tenant is for this machine\'s store; a remote Wharf acts for the organization of its credentials\n');
      return 2;
    }
    return run(remoteAgentAdmin(remote));
  }
  if (options.tenant !== undefined && !/^\d+$/.test(options.tenant)) {
    io.stderr(`wharf agent: --tenant takes a tenant id (a number), got ${JSON.stringify(options.tenant)}\n`);
    return 2;
  }
  const { openStore } = await import('../connect.js');
  const pool = await openStore(io.env, io.cwd);
  try {
    const tenantId = options.tenant !== undefined ? Number(options.tenant) : (await tenants.upsertTenant(pool, { kind: 'local', externalId: 'local', name: 'local' })).id;
    const liveness = agentPolicyFrom(loadSettings(agentSettings, io.env));
    return await run(localAgentAdmin(pool, { tenantId }, { actor: cliActor(), liveness }));
  } finally {
    await pool.end();
  }
}

async function ownerCommand(sub: string, argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { pool: { type: 'string' }, ttl: { type: 'string' }, tenant: { type: 'string' }, json: { type: 'boolean' }, reason: { type: 'string' }, context: { type: 'string' } },
  });
  if (sub === 'token create') {
    if (!values.pool) {
      io.stderr('wharf agent token create: --pool POOL is required (the part after the colon of `target: agent:POOL`)\n');
      return 2;
    }
    if (values.pool.length > 63 || !AGENT_POOL_PATTERN.test(values.pool)) {
      io.stderr(`wharf agent token create: --pool takes lower-case letters, digits and '-' (at most 63), as in agent:POOL; got ${JSON.stringify(values.pool)}\n`);
      return 2;
    }
  }
  const ttlMs = parseTtl(values.ttl ?? '24h');
  if (sub === 'token create' && (ttlMs === undefined || ttlMs > REGISTRATION_TOKEN_MAX_TTL_MS)) {
    io.stderr(`wharf agent token create: --ttl must be a duration like 30m, 24h or 7d, at most 30d (got ${JSON.stringify(values.ttl)})\n`);
    return 2;
  }
  let id = 0;
  if (sub === 'token revoke' || sub === 'revoke') {
    id = Number(positionals[0]);
    if (!Number.isSafeInteger(id) || id <= 0) {
      io.stderr(`wharf agent ${sub}: give the ${sub === 'revoke' ? 'agent' : 'token'}'s id (see \`wharf agent ${sub === 'revoke' ? 'list' : 'token list'}\`)\n`);
      return 2;
    }
  }
  const reason = values.reason !== undefined ? { reason: values.reason } : {};
  return withAdmin(io, { ...(values.context ? { context: values.context } : {}), ...(values.tenant !== undefined ? { tenant: values.tenant } : {}) }, async (admin) => {
    if (sub === 'token create') {
      const made = await admin.createToken({ pool: values.pool!, ttlMs: ttlMs!, ...reason });
      io.stdout(`${made.token}\n`);
      io.stderr(`registration token ${made.id} for pool ${made.pool}, valid until ${made.expiresAt} (any number of agents). It is shown once.\n`);
      return 0;
    }
    if (sub === 'token list') {
      const rows = await admin.listTokens();
      if (values.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else io.stdout(`${table(['ID', 'POOL', 'STATE', 'EXPIRES', 'USES', 'CREATED BY'], rows.map((r) => [String(r.id), r.pool, r.state, r.expiresAt, String(r.uses), r.createdBy]))}\n`);
      return 0;
    }
    if (sub === 'token revoke' || sub === 'revoke') {
      const done = sub === 'revoke' ? await admin.revokeAgent(id, values.reason) : await admin.revokeToken(id, values.reason);
      if (!done) {
        io.stderr(`wharf agent ${sub}: no active ${sub === 'revoke' ? 'agent' : 'registration token'} ${id}\n`);
        return 1;
      }
      io.stdout(sub === 'revoke' ? `agent ${id} revoked: its credentials stop working now; its environments move to another agent of its pool\n` : `registration token ${id} revoked\n`);
      return 0;
    }
    // list
    const rows = await admin.listAgents({ includeRevoked: values.json === true });
    if (values.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) io.stdout('no agents: create a registration token with `wharf agent token create --pool POOL` and register one\n');
    else {
      io.stdout(
        `${table(
          ['ID', 'NAME', 'POOL', 'STATE', 'LAST SEEN', 'ENVIRONMENTS', 'CREDENTIALS'],
          rows.map((a) => [String(a.id), a.name, a.pool, a.state, a.lastSeenAt ?? 'never', String(a.environments.length), String(a.activeCredentials)]),
        )}\n`,
      );
    }
    return 0;
  }).catch((err: Error) => {
    if (err.name !== 'CommandError') throw err;
    io.stderr(`wharf agent ${sub}: ${err.message}\n`);
    return 1;
  });
}

async function hostCommand(sub: string, argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      url: { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
      lines: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const agent = await import('@wharf/agent');
  if (sub === 'build-runtime') {
    if (!values.out) {
      io.stderr('wharf agent build-runtime: --out DIR is required\n');
      return 2;
    }
    const bytes = await agent.buildRuntimeTo(values.out);
    io.stdout(`runtime package written to ${values.out} (${Math.round(bytes / 1024)} KiB): set runtime.packageDir in agent.yaml to use it\n`);
    return 0;
  }
  if (!values.config) {
    io.stderr(`wharf agent ${sub}: --config agent.yaml is required\n`);
    return 2;
  }
  try {
    if (sub === 'register') {
      const creds = await agent.registerAgent({ configFile: values.config, url: values.url, token: values.token, name: values.name });
      io.stdout(`registered as agent ${creds.agentId} (${creds.name}) in pool ${creds.pool}; the registration token was removed from ${values.config}\n`);
      return 0;
    }
    if (sub === 'rotate') {
      const creds = await agent.rotateAgentCredential(values.config);
      io.stdout(`agent ${creds.agentId}: new credential in place; the old one no longer works\n`);
      return 0;
    }
    if (sub === 'status') {
      io.stdout(await agent.agentStatusText(values.config, { json: values.json }));
      return 0;
    }
    if (sub === 'logs') {
      const id = Number(positionals[0]);
      if (!Number.isSafeInteger(id) || id <= 0) {
        io.stderr('wharf agent logs: give the environment id (the ID column of `wharf agent status`)\n');
        return 2;
      }
      io.stdout(await agent.agentLogs(values.config, id, Number(values.lines ?? 200)));
      return 0;
    }
    // run
    const { createLogger } = await import('../logger.js');
    const log = createLogger({ level: io.env.WHARF_LOG_LEVEL ?? 'info', file: io.env.WHARF_LOG_FILE ?? '-' });
    const running = await agent.startAgent(values.config, log);
    io.stderr(`wharf agent: running (see \`wharf agent status --config ${values.config}\`)\n`);
    const signal = await io.waitForStop();
    io.stderr(`${signal}: stopping the agent (what runs on the guests keeps running)\n`);
    await running.stop();
    log.flush();
    return 0;
  } catch (err) {
    const e = err as Error & { problems?: string[] };
    if (e.name === 'StartupError' || e.name === 'ControlPlaneError' || e.name === 'AgentError') {
      io.stderr(`wharf agent ${sub}: ${e.message}\n`);
      return 1;
    }
    throw err;
  }
}

export async function runAgentCommand(argv: string[], io: CommandIO): Promise<number> {
  const [first, second, ...rest] = argv;
  if (!first || first === '--help' || first === '-h' || argv.includes('--help') || argv.includes('-h')) {
    io.stdout(`${agentHelp}\n`);
    return first ? 0 : 2;
  }
  if (first === 'token') {
    if (second !== 'create' && second !== 'list' && second !== 'revoke') {
      io.stderr(`wharf agent token: unknown subcommand ${JSON.stringify(second ?? '')} (create, list, revoke)\n`);
      return 2;
    }
    return ownerCommand(`token ${second}`, rest, io);
  }
  const tail = second === undefined ? [] : [second, ...rest];
  if (first === 'list' || first === 'revoke') return ownerCommand(first, tail, io);
  if (['register', 'run', 'rotate', 'status', 'logs', 'build-runtime'].includes(first)) return hostCommand(first, tail, io);
  io.stderr(`wharf agent: unknown subcommand ${JSON.stringify(first)}\n\n${agentHelp}\n`);
  return 2;
}
