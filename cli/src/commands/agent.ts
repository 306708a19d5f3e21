/**
 * `wharf agent …`: pull agents.
 *   On the control plane's database (the owner; for now the local owner's tenant, or --tenant ID):
 *     token create --pool P [--ttl 24h] · token list · token revoke ID · list · revoke AGENT_ID
 *   On the agent's host (agent.yaml):
 *     register --config F [--url URL] [--token T] [--name N] · run --config F · rotate --config F · status --config F
 *     logs --config F ENVIRONMENT_ID · build-runtime --out DIR
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AUDIT_ACTIONS, agentLiveness, agentPolicyFrom, agentSettings, loadSettings } from '@wharf/contracts';
import { agents, audit, type DatabasePool, tenants } from '@wharf/store';
import type { CommandIO } from './io.js';

export const agentSummary = 'pull agents: registration tokens, register/run/rotate/status on the agent host, list and revoke';
export const agentHelp = `Usage: wharf agent <subcommand> [options]

On the control plane (its database: DATABASE_URL, or the embedded one of a running \`wharf up\`):
  token create --pool POOL [--ttl 24h]   a registration token for POOL (shown once; multi-use until it expires)
  token list                             the tenant's registration tokens
  token revoke ID                        revoke a registration token now
  list [--json]                          agents: pool, Connected/Stale/Offline, last seen, environments
  revoke AGENT_ID [--reason TEXT]        revoke an agent now: every call it makes gets 401; its environments move
  (--tenant ID picks the tenant; default: the local owner of \`wharf up\`)

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

async function withStore(io: CommandIO, run: (pool: DatabasePool) => Promise<number>): Promise<number> {
  const { openStore } = await import('../connect.js');
  const pool = await openStore(io.env, io.cwd);
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}

async function tenantScope(pool: DatabasePool, tenant: string | undefined, io: CommandIO): Promise<{ tenantId: number } | undefined> {
  if (tenant !== undefined) {
    if (!/^\d+$/.test(tenant)) {
      io.stderr(`wharf agent: --tenant takes a tenant id (a number), got ${JSON.stringify(tenant)}\n`);
      return undefined;
    }
    return { tenantId: Number(tenant) };
  }
  const local = await tenants.upsertTenant(pool, { kind: 'local', externalId: 'local', name: 'local' });
  return { tenantId: local.id };
}

async function ownerCommand(sub: string, argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { pool: { type: 'string' }, ttl: { type: 'string' }, tenant: { type: 'string' }, json: { type: 'boolean' }, reason: { type: 'string' } },
  });
  const liveness = agentPolicyFrom(loadSettings(agentSettings, io.env));
  return withStore(io, async (pool) => {
    const scope = await tenantScope(pool, values.tenant, io);
    if (!scope) return 2;
    if (sub === 'token create') {
      if (!values.pool) {
        io.stderr('wharf agent token create: --pool POOL is required (the part after the colon of `target: agent:POOL`)\n');
        return 2;
      }
      const ttlMs = parseTtl(values.ttl ?? '24h');
      if (ttlMs === undefined || ttlMs > agents.REGISTRATION_TOKEN_MAX_TTL_MS) {
        io.stderr(`wharf agent token create: --ttl must be a duration like 30m, 24h or 7d, at most 30d (got ${JSON.stringify(values.ttl)})\n`);
        return 2;
      }
      let made: Awaited<ReturnType<typeof agents.createRegistrationToken>>;
      try {
        made = await pool.transaction(async (tx) => {
          const m = await agents.createRegistrationToken(tx, scope, { pool: values.pool!, ttlMs, createdBy: cliActor() });
          await audit.recordAudit(tx, [
            { tenantId: scope.tenantId, actor: cliActor(), action: AUDIT_ACTIONS.agentTokenCreate, subject: `agent-token:${m.row.id}`, reason: values.reason ?? `wharf agent token create --pool ${values.pool}`, details: { pool: values.pool, expiresAt: m.row.expires_at } },
          ]);
          return m;
        });
      } catch (err) {
        io.stderr(`wharf agent token create: ${(err as Error).message}\n`);
        return 2;
      }
      io.stdout(`${made.token}\n`);
      io.stderr(`registration token ${made.row.id} for pool ${made.row.pool}, valid until ${made.row.expires_at} (any number of agents). It is shown once.\n`);
      return 0;
    }
    if (sub === 'token list') {
      const rows = await agents.listRegistrationTokens(pool, scope);
      if (values.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else {
        const now = Date.now();
        const state = (r: (typeof rows)[number]) => (r.revoked_at ? 'revoked' : new Date(r.expires_at).getTime() <= now ? 'expired' : 'active');
        io.stdout(`${table(['ID', 'POOL', 'STATE', 'EXPIRES', 'USES', 'CREATED BY'], rows.map((r) => [String(r.id), r.pool, state(r), r.expires_at, String(r.uses), r.created_by]))}\n`);
      }
      return 0;
    }
    if (sub === 'token revoke' || sub === 'revoke') {
      const id = Number(positionals[0]);
      if (!Number.isSafeInteger(id) || id <= 0) {
        io.stderr(`wharf agent ${sub}: give the ${sub === 'revoke' ? 'agent' : 'token'}'s id (see \`wharf agent ${sub === 'revoke' ? 'list' : 'token list'}\`)\n`);
        return 2;
      }
      const done = await pool.transaction(async (tx) => {
        const ok = sub === 'revoke' ? await agents.revokeAgent(tx, scope, id) : await agents.revokeRegistrationToken(tx, scope, id);
        if (ok) {
          await audit.recordAudit(tx, [
            {
              tenantId: scope.tenantId,
              actor: cliActor(),
              action: sub === 'revoke' ? AUDIT_ACTIONS.agentRevoke : AUDIT_ACTIONS.agentTokenRevoke,
              subject: `${sub === 'revoke' ? 'agent' : 'agent-token'}:${id}`,
              reason: values.reason ?? `wharf agent ${sub} ${id}`,
            },
          ]);
        }
        return ok;
      });
      if (!done) {
        io.stderr(`wharf agent ${sub}: no active ${sub === 'revoke' ? 'agent' : 'registration token'} ${id}\n`);
        return 1;
      }
      io.stdout(sub === 'revoke' ? `agent ${id} revoked: its credentials stop working now; its environments move to another agent of its pool\n` : `registration token ${id} revoked\n`);
      return 0;
    }
    // list
    const list = await agents.listAgents(pool, scope, { includeRevoked: values.json === true });
    const now = new Date();
    const rows = list.map((a) => ({ ...a, liveness: a.revoked_at ? 'Revoked' : agentLiveness(a.last_seen_at, now, liveness) }));
    if (values.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) io.stdout('no agents: create a registration token with `wharf agent token create --pool POOL` and register one\n');
    else {
      io.stdout(
        `${table(
          ['ID', 'NAME', 'POOL', 'STATE', 'LAST SEEN', 'ENVIRONMENTS', 'CREDENTIALS'],
          rows.map((a) => [String(a.id), a.name, a.pool, a.liveness, a.last_seen_at ?? 'never', String(a.environments), String(a.active_credentials)]),
        )}\n`,
      );
    }
    return 0;
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
