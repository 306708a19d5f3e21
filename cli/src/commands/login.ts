/**
 * `wharf login --url URL` (GitHub's device flow, or `--token` with an API key), `wharf logout`, `wharf context`:
 * contexts like kubectl's, in a config file only its owner can read. `WHARF_URL`/`WHARF_TOKEN` need no login (CI).
 */
import { parseArgs } from 'node:util';
import { parseToken } from '@wharf/contracts';
import { configPath, readConfig, writeConfig } from '../backend/remote-config.js';
import type { CommandIO } from './io.js';

export const loginHelp = `Usage: wharf login --url URL [--token KEY|-] [--context NAME] [--organization SLUG]

Logs in to the Wharf at URL and makes it the current context: the environment commands (status, history, diff, logs,
suspend, resume, rollback) then talk to it. Without --token, signs in with GitHub's device flow (open the page shown,
enter the code). With --token, uses an API key (wharf_…); --token - reads it from standard input.
  wharf logout [--context NAME]     forget a context's credentials
  wharf context [NAME]              list contexts, or switch to NAME (\`local\`: the Wharf on this machine)`;

interface Problem {
  detail?: string;
  title?: string;
  code?: string;
}

async function api<T>(url: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T & Problem }> {
  const res = await fetch(`${url}/api/v1${path}`, { ...init, headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) }, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as T & Problem };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export async function runLogin(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, url: { type: 'string' }, token: { type: 'string' }, context: { type: 'string' }, organization: { type: 'string' } },
  });
  if (values.help) {
    io.stdout(`${loginHelp}\n`);
    return 0;
  }
  if (!values.url || !/^https?:\/\/[^\s/]+/.test(values.url)) {
    io.stderr(`${loginHelp}\n`);
    return 2;
  }
  const url = values.url.replace(/\/$/, '');
  let token = values.token === '-' ? await readStdin() : values.token;
  try {
    if (token === undefined) {
      const start = await api<{ deviceCode: string; userCode: string; verificationUri: string; expiresIn: number; interval: number }>(url, '/auth/device', { method: 'POST' });
      if (start.status !== 200) {
        io.stderr(`${url} cannot sign you in with GitHub: ${start.body.detail ?? start.body.title ?? start.status}. Use --token with an API key.\n`);
        return 1;
      }
      io.stdout(`Open ${start.body.verificationUri} and enter the code ${start.body.userCode}\n`);
      let interval = Math.max(1, start.body.interval) * 1000;
      const until = Date.now() + start.body.expiresIn * 1000;
      for (;;) {
        if (Date.now() > until) {
          io.stderr('the code expired: run wharf login again\n');
          return 1;
        }
        const stop = await Promise.race([sleep(interval).then(() => false), io.waitForStop().then(() => true)]);
        if (stop) return 130;
        const polled = await api<{ token: string; user: { login: string } }>(url, '/auth/device/token', { method: 'POST', body: JSON.stringify({ deviceCode: start.body.deviceCode }) });
        if (polled.status === 200) {
          token = polled.body.token;
          io.stdout(`Signed in as ${polled.body.user.login}\n`);
          break;
        }
        if (polled.body.code === 'slow-down') interval += 5_000;
        else if (polled.body.code !== 'authorization-pending') {
          io.stderr(`sign-in failed: ${polled.body.detail ?? polled.body.title ?? polled.status}\n`);
          return 1;
        }
      }
    }
    if (!token || !parseToken(token)) {
      io.stderr('that is not a Wharf API key or token (wharf_… with a valid checksum)\n');
      return 1;
    }
    const headers = { authorization: `Bearer ${token}`, ...(values.organization ? { 'wharf-organization': values.organization } : {}) };
    const orgs = await api<{ items: { slug: string; name: string; role: string | null }[] }>(url, '/organizations', { headers });
    if (orgs.status !== 200) {
      io.stderr(`${url} refused the credentials: ${orgs.body.detail ?? orgs.body.title ?? orgs.status}\n`);
      return 1;
    }
    const organization = values.organization ?? (orgs.body.items.length === 1 ? orgs.body.items[0]?.slug : undefined);
    const name = values.context ?? new URL(url).host;
    const config = await readConfig(io.env);
    config.contexts[name] = { url, token, ...(organization ? { organization } : {}) };
    config.currentContext = name;
    const file = await writeConfig(io.env, config);
    io.stdout(`Logged in to ${url}${organization ? ` as organization ${organization}` : ` (organizations: ${orgs.body.items.map((o) => o.slug).join(', ')}; choose with --organization)`}. Context ${name} is current (${file}).\n`);
    return 0;
  } catch (err) {
    io.stderr(`cannot reach ${url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}\n`);
    return 1;
  }
}

export async function runLogout(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { context: { type: 'string' } } });
  const config = await readConfig(io.env);
  const name = values.context ?? config.currentContext;
  if (!name || !config.contexts[name]) {
    io.stderr(`no context ${name ?? ''} to log out of\n`);
    return 1;
  }
  delete config.contexts[name];
  if (config.currentContext === name) config.currentContext = null;
  await writeConfig(io.env, config);
  io.stdout(`Logged out of ${name}${config.currentContext ? '' : '; commands use the Wharf on this machine'}\n`);
  return 0;
}

export async function runContext(argv: string[], io: CommandIO): Promise<number> {
  const [name] = argv;
  const config = await readConfig(io.env);
  if (!name) {
    const current = config.currentContext ?? 'local';
    io.stdout(`${current === 'local' ? '*' : ' '} local  (the Wharf on this machine)\n`);
    for (const [n, c] of Object.entries(config.contexts)) io.stdout(`${current === n ? '*' : ' '} ${n}  ${c.url}${c.organization ? ` (${c.organization})` : ''}\n`);
    if (io.env.WHARF_URL) io.stdout(`WHARF_URL is set: commands use ${io.env.WHARF_URL} whatever the context\n`);
    return 0;
  }
  if (name !== 'local' && !config.contexts[name]) {
    io.stderr(`no context named ${name} (${configPath(io.env) ?? 'no config file'})\n`);
    return 1;
  }
  config.currentContext = name === 'local' ? null : name;
  await writeConfig(io.env, config);
  io.stdout(`Switched to ${name}\n`);
  return 0;
}
