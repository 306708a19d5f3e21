/**
 * `wharf github setup`: creates Wharf's GitHub App through GitHub's app-manifest flow and stores the credentials it
 * hands back. It serves one page on loopback that posts the manifest to GitHub, waits for GitHub's redirect with a
 * one-time code, exchanges the code (POST /app-manifests/{code}/conversions) and writes the App id, private key and
 * webhook secret under the data directory. `--code` exchanges a code obtained some other way.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CommandIO } from './io.js';

export const githubHelp = `wharf github setup [--public-url URL] [--org ORG] [--name NAME] [--port N] [--code CODE] [--out DIR]

Creates Wharf's GitHub App with GitHub's app-manifest flow:
  1. prints a local URL; open it, GitHub asks you to confirm the new App;
  2. GitHub sends you back with a one-time code, which Wharf exchanges for the App's credentials;
  3. the App id, private key and webhook secret are written to DIR/github-app.env and DIR/github-app.pem
     (DIR defaults to WHARF_DATA_DIR, .wharf). Then install the App on your repositories.

  --public-url URL  where GitHub reaches this Wharf (webhooks); default WHARF_PUBLIC_URL
  --org ORG         create the App under an organization instead of your account
  --code CODE       skip the browser: exchange a code from GitHub's redirect
  GITHUB_API_URL    the GitHub API (default https://api.github.com; GHES: https://HOST/api/v3)`;

/** Permissions and events the App needs (docs/github-app.md explains each). */
export const APP_PERMISSIONS = {
  checks: 'write',
  contents: 'write',
  deployments: 'write',
  issues: 'write',
  pull_requests: 'write',
  metadata: 'read',
} as const;
export const APP_EVENTS = ['check_run', 'check_suite', 'issue_comment', 'pull_request', 'push'] as const;

export function appManifest(input: { name: string; publicUrl: string; redirectUrl: string }): Record<string, unknown> {
  return {
    name: input.name,
    url: input.publicUrl,
    hook_attributes: { url: `${input.publicUrl.replace(/\/$/, '')}/api/github/webhooks`, active: true },
    redirect_url: input.redirectUrl,
    public: false,
    default_permissions: APP_PERMISSIONS,
    default_events: APP_EVENTS,
  };
}

const webBase = (apiUrl: string) => {
  const u = new URL(apiUrl);
  return u.hostname === 'api.github.com' ? 'https://github.com' : `${u.protocol}//${u.host}`;
};

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Conversion {
  id: number;
  slug?: string;
  pem: string;
  webhook_secret: string | null;
  html_url?: string;
  client_id?: string;
}

async function exchange(apiUrl: string, code: string): Promise<Conversion> {
  const res = await fetch(`${apiUrl.replace(/\/$/, '')}/app-manifests/${encodeURIComponent(code)}/conversions`, {
    method: 'POST',
    headers: { accept: 'application/vnd.github+json', 'user-agent': 'wharf-cli', 'x-github-api-version': '2022-11-28' },
  });
  if (res.status !== 201) throw new Error(`GitHub refused the code (HTTP ${res.status}): ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as Conversion;
}

async function store(dir: string, app: Conversion): Promise<{ envFile: string; keyFile: string }> {
  await mkdir(dir, { recursive: true });
  const keyFile = path.join(dir, 'github-app.pem');
  const envFile = path.join(dir, 'github-app.env');
  await writeFile(keyFile, app.pem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  const lines = [`GITHUB_APP_ID=${app.id}`, `GITHUB_PRIVATE_KEY_PATH=${keyFile}`, `GITHUB_WEBHOOK_SECRET=${app.webhook_secret ?? ''}`];
  await writeFile(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  await chmod(envFile, 0o600);
  return { envFile, keyFile };
}

async function waitForCode(io: CommandIO, options: { port: number; manifest: (redirect: string) => Record<string, unknown>; postTo: string }): Promise<string> {
  const state = randomBytes(16).toString('hex');
  let resolveCode!: (code: string) => void;
  let rejectCode!: (err: Error) => void;
  const code = new Promise<string>((res, rej) => {
    resolveCode = res;
    rejectCode = rej;
  });
  let base = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/callback') {
      if (url.searchParams.get('state') !== state || !url.searchParams.get('code')) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('This link does not belong to this setup run.');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>Wharf received the App credentials. You can close this tab and return to the terminal.</p>');
      resolveCode(url.searchParams.get('code') as string);
      return;
    }
    if (url.pathname !== '/') {
      res.writeHead(404).end();
      return;
    }
    const manifest = JSON.stringify(options.manifest(`${base}/callback`));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><title>Create Wharf's GitHub App</title><form id="f" method="post" action="${escapeHtml(options.postTo)}?state=${state}">` +
        `<input type="hidden" name="manifest" value="${escapeHtml(manifest)}"><button>Create the GitHub App</button></form>` +
        '<script>document.getElementById("f").submit()</script>',
    );
  });
  server.on('error', (err) => rejectCode(err));
  await new Promise<void>((r) => server.listen(options.port, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  io.stdout(`Open ${base}/ in a browser on this machine to create the GitHub App.\n`);
  const stop = io.waitForStop().then((signal) => {
    throw new Error(`setup cancelled (${signal})`);
  });
  try {
    return await Promise.race([code, stop]);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

export async function runGithub(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      'public-url': { type: 'string' },
      org: { type: 'string' },
      name: { type: 'string' },
      port: { type: 'string' },
      code: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.help || positionals[0] !== 'setup') {
    (values.help ? io.stdout : io.stderr)(`${githubHelp}\n`);
    return values.help ? 0 : 2;
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const apiUrl = (io.env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/$/, '');
  const outDir = path.resolve(io.cwd, str(values.out) ?? io.env.WHARF_DATA_DIR ?? '.wharf');
  try {
    let code = str(values.code);
    if (!code) {
      const publicUrl = str(values['public-url']) ?? io.env.WHARF_PUBLIC_URL;
      if (!publicUrl || !/^https?:\/\//.test(publicUrl)) {
        io.stderr('wharf github setup needs the URL where GitHub reaches this Wharf: --public-url https://… or WHARF_PUBLIC_URL.\n');
        return 2;
      }
      const org = str(values.org);
      const postTo = `${webBase(apiUrl)}${org ? `/organizations/${encodeURIComponent(org)}` : ''}/settings/apps/new`;
      code = await waitForCode(io, {
        port: Number(str(values.port) ?? 0),
        postTo,
        manifest: (redirectUrl) => appManifest({ name: str(values.name) ?? `Wharf ${randomBytes(2).toString('hex')}`, publicUrl, redirectUrl }),
      });
    }
    const app = await exchange(apiUrl, code);
    const { envFile, keyFile } = await store(outDir, app);
    io.stdout(`Created GitHub App ${app.slug ?? app.id} (id ${app.id}).\n`);
    io.stdout(`  credentials  ${path.relative(io.cwd, envFile)} (private key in ${path.relative(io.cwd, keyFile)}, mode 600)\n`);
    if (app.html_url) io.stdout(`  install it   ${app.html_url}/installations/new\n`);
    io.stdout(`Load the settings before \`wharf up\`, e.g. \`set -a; . ${path.relative(io.cwd, envFile)}; set +a\`.\n`);
    return 0;
  } catch (err) {
    io.stderr(`wharf github setup failed: ${(err as Error).message}\n`);
    return 1;
  }
}
