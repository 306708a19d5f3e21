import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeGitHub } from '@wharf/testkit';
import t from 'tap';
import { appManifest, runGithub } from '../src/commands/github.js';
import type { CommandIO } from '../src/commands/io.js';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const fake = await startFakeGitHub({ appId: 77, publicKey });
  t.teardown(() => fake.close());
  fake.state.manifestConversions.set('one-time-code', { id: 77, slug: 'wharf-acme', pem: privateKey, webhook_secret: 'whsec-from-github', html_url: 'https://github.com/apps/wharf-acme', client_id: 'Iv1.x', client_secret: 'y' });
  const cwd = await mkdtemp(path.join(tmpdir(), 'wharf-cli-gh-'));
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  let out = '';
  let err = '';
  let stop!: (s: string) => void;
  const io: CommandIO = {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    cwd,
    env: { GITHUB_API_URL: fake.url, WHARF_PUBLIC_URL: 'https://wharf.example.com' },
    waitForStop: () => new Promise((r) => (stop = r)),
  };
  return { fake, cwd, io, out: () => out, err: () => err, stop: (s: string) => stop?.(s), privateKey };
}

t.test('setup with a code from GitHub stores the App credentials', async (t) => {
  const s = await setup(t);
  t.equal(await runGithub(['setup', '--code', 'one-time-code'], s.io), 0, s.err());
  const env = await readFile(path.join(s.cwd, '.wharf', 'github-app.env'), 'utf8');
  t.match(env, /^GITHUB_APP_ID=77$/m);
  t.match(env, /^GITHUB_WEBHOOK_SECRET=whsec-from-github$/m);
  t.match(env, /^GITHUB_PRIVATE_KEY_PATH=.*github-app\.pem$/m);
  t.equal(await readFile(path.join(s.cwd, '.wharf', 'github-app.pem'), 'utf8'), s.privateKey);
  t.equal((await stat(path.join(s.cwd, '.wharf', 'github-app.pem'))).mode & 0o777, 0o600, 'the key is readable by its owner only');
  t.match(s.out(), /install it\s+https:\/\/github\.com\/apps\/wharf-acme\/installations\/new/);
  t.equal(await runGithub(['setup', '--code', 'one-time-code'], s.io), 1, 'a code works once');
  t.match(s.err(), /GitHub refused the code \(HTTP 404\)/);
});

t.test('setup through the browser: a local page posts the manifest, GitHub redirects back with the code', async (t) => {
  const s = await setup(t);
  const running = runGithub(['setup', '--name', 'Wharf Acme'], s.io);
  let url = '';
  for (let i = 0; i < 100 && !url; i++) {
    url = /Open (http:\/\/127\.0\.0\.1:\d+)\//.exec(s.out())?.[1] ?? '';
    if (!url) await new Promise((r) => setTimeout(r, 20));
  }
  const page = await (await fetch(`${url}/`)).text();
  t.ok(page.includes(`action="${s.fake.url}/settings/apps/new?state=`), 'the form posts to GitHub (here GITHUB_API_URL’s host, as for GHES)');
  const manifest = JSON.parse(/name="manifest" value="([^"]+)"/.exec(page)?.[1]?.replace(/&quot;/g, '"').replace(/&amp;/g, '&') ?? '{}');
  t.same(manifest.hook_attributes, { url: 'https://wharf.example.com/api/github/webhooks', active: true });
  t.equal(manifest.redirect_url, `${url}/callback`);
  t.same(manifest.default_events, ['check_run', 'check_suite', 'issue_comment', 'pull_request', 'push']);
  const state = /state=([0-9a-f]+)/.exec(page)?.[1];
  t.equal((await fetch(`${url}/callback?code=one-time-code&state=forged`)).status, 400, 'a forged state is refused');
  t.equal((await fetch(`${url}/callback?code=one-time-code&state=${state}`)).status, 200);
  t.equal(await running, 0, s.err());
  t.match(await readFile(path.join(s.cwd, '.wharf', 'github-app.env'), 'utf8'), /GITHUB_APP_ID=77/);
});

t.test('setup without a public URL says what is missing', async (t) => {
  const s = await setup(t);
  s.io.env = { GITHUB_API_URL: s.fake.url };
  t.equal(await runGithub(['setup'], s.io), 2);
  t.match(s.err(), /--public-url/);
  t.same(appManifest({ name: 'x', publicUrl: 'https://w.example/', redirectUrl: 'http://127.0.0.1:1/callback' }).hook_attributes, { url: 'https://w.example/api/github/webhooks', active: true });
});
