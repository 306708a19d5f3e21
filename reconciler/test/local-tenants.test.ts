/**
 * Two tenants with the same app and environment names on one local target: each has its own URL (host and path),
 * its own logs, and a teardown that removes only its own route. The router's 404 names nothing.
 */
import http from 'node:http';
import type { TargetEnvironment, TargetRef } from '@wharf/contracts';
import { tinyRuntimeCommand } from '@wharf/testkit';
import t from 'tap';
import { createLocalTarget } from '../src/targets/local/local-target.js';
import { silentLog, specFor } from './helpers.js';
import { get, tempDir } from './local-helpers.js';

const ctx = { signal: new AbortController().signal, log: silentLog, action: 'create' as const };
const env = (id: number, tenantId: number, repositoryId: number, echo: string): TargetEnvironment => ({
  id,
  tenantId,
  repositoryId,
  app: 'hello-api',
  name: 'production',
  qualifier: null,
  kind: 'production',
  generation: 1,
  digest: `sha256:${echo}`,
  spec: specFor('hello-api', 'production', echo),
});
const host = (url: string) => new URL(url).host;

function socketGet(socketPath: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: urlPath }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

t.test('same app and environment names in two tenants: separate URLs, logs and teardown', async (t) => {
  const stateDir = await tempDir(t, 'wharf-tenants-');
  const options = { stateDir, runtimeCommand: tinyRuntimeCommand(), log: silentLog, stopGraceMs: 1_000, friendlyTenantId: 1 };
  const lt = await createLocalTarget(options);
  t.teardown(() => lt.close());
  const port = lt.router.port;
  const owner = env(1, 1, 1, 'owner');
  const stranger = env(2, 2, 2, 'stranger');
  const ownerOtherRepo = env(3, 1, 3, 'owner-repo-3');

  const a = await lt.apply(owner, ctx);
  const b = await lt.apply(stranger, ctx);
  const c = await lt.apply(ownerOtherRepo, ctx);
  t.equal(a.url, `http://production--hello-api.localhost:${port}/`, 'the local owner keeps the friendly URL');
  t.match(b.url, new RegExp(`^http://production--hello-api-[0-9a-f]{16}\\.localhost:${port}/$`), 'another tenant gets a label of its own');
  t.match(c.url, /^http:\/\/production--hello-api-[0-9a-f]{16}\.localhost/, "the owner's second repository too: the friendly name is taken");
  t.equal(new Set([a.url, b.url, c.url]).size, 3);

  const labelOf = (url: string | null) => new URL(url ?? '').hostname.replace(/\.localhost$/, '');
  for (const [url, echo] of [[a.url, 'owner'], [b.url, 'stranger'], [c.url, 'owner-repo-3']] as const) {
    t.match((await get(port, '/hello', host(url ?? ''))).json, { echo: `hello-api ${echo}`, path: '/hello' }, `${echo} by host`);
    t.match((await get(port, `/${labelOf(url)}/hello?x=1`)).json, { echo: `hello-api ${echo}`, path: '/hello?x=1' }, `${echo} by path`);
  }
  t.match((await get(port, '/hello-api/production/hello')).json, { echo: 'hello-api owner' }, "the owner's friendly path");

  const notFound = await get(port, '/nothing/here');
  t.equal(notFound.status, 404);
  t.notMatch(notFound.body, /hello-api|production|owner|stranger/, 'the 404 page names nothing');
  t.equal((await get(port, '/', 'production--hello-api-0000000000000000.localhost')).status, 404, 'a made-up label reaches nothing');

  const lines = async (ref: TargetRef) => {
    const out: string[] = [];
    for await (const l of lt.logs(ref)) out.push(l.line);
    return out.join('\n');
  };
  t.match(await lines(owner), /digest sha256:owner/);
  t.notMatch(await lines(owner), /sha256:stranger/, "one tenant's log holds none of the other's lines");
  t.match(await lines(stranger), /digest sha256:stranger/);
  const socket = lt.logSocketPath ?? '';
  const viaSocket = await socketGet(socket, '/logs/2');
  t.equal(viaSocket.status, 200);
  t.match(viaSocket.body, /sha256:stranger/);
  t.notMatch(viaSocket.body, /sha256:owner/);
  t.equal((await socketGet(socket, '/logs/99')).status, 404);

  t.same(await lt.delete(stranger, ctx), { status: 'deleted' });
  t.equal((await get(port, '/hello', host(b.url ?? ''))).status, 404, "the stranger's URL is gone");
  t.match((await get(port, '/hello', host(a.url ?? ''))).json, { echo: 'hello-api owner' }, "the owner's production still answers");
  t.match((await get(port, '/hello', host(c.url ?? ''))).json, { echo: 'hello-api owner-repo-3' });

  // Labels survive a restart of Wharf: the label key stays in the state dir.
  await lt.close();
  const again = await createLocalTarget(options);
  t.teardown(() => again.close());
  t.equal(again.urlOf(ownerOtherRepo).replace(/:\d+\/$/, ''), (c.url ?? '').replace(/:\d+\/$/, ''), 'same label after a restart');
});
