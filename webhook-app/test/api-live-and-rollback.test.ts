/**
 * The REST API's live events and rollbacks on real Postgres and real Git: `GET /api/v1/events` over a real socket,
 * scoped to the caller's organization; `POST /environments/{id}/rollback` committing to a local working copy; and an
 * Idempotency-Key that replays a rollback instead of committing twice.
 */
import http from 'node:http';
import { sql, versions } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createRepo, git, seedRepository, waitFor } from '@wharf/testkit';
import t from 'tap';
import { startApiHarness } from './helpers/api-harness.js';

interface Stream {
  events: { event: string; data: unknown }[];
  close(): void;
}

/** Opens an event stream with `token`; resolves once the server said `ready`. */
function openStream(port: number, token: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const events: Stream['events'] = [];
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const event = /^event: (.+)$/m.exec(frame)?.[1];
          const data = /^data: (.+)$/m.exec(frame)?.[1];
          if (!event || data === undefined) continue;
          events.push({ event, data: JSON.parse(data) });
          if (event === 'ready') resolve({ events, close: () => req.destroy() });
        }
      });
    });
    req.on('error', reject);
  });
}

const setReady = (pool: Parameters<typeof seedEnvironments>[0], id: number, status: 'True' | 'False', message: string) =>
  pool.query(sql.unsafe`
    UPDATE environments SET conditions = jsonb_build_array(jsonb_build_object('type', 'Ready', 'status', ${status}::text,
      'reason', 'RolloutSucceeded', 'message', ${message}::text, 'lastTransitionTime', now())) WHERE id = ${id}`);

t.test('events: a stream carries its own organization’s changes and never another’s', async (t) => {
  const h = await startApiHarness(t);
  await h.server.listen({ host: '127.0.0.1', port: 0 });
  const address = h.server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const { key: acmeKey } = await h.key('acme', { name: 'watch', scopes: ['read'] });
  const { key: globexKey } = await h.key('globex', { name: 'watch', scopes: ['read'] });
  const anonymous = await h.call('GET', '/api/v1/events', { headers: { host: 'wharf.example.com' } });
  t.equal(anonymous.status, 401, 'no stream without credentials');

  const acme = await openStream(port, acmeKey);
  const globex = await openStream(port, globexKey);
  t.teardown(() => {
    acme.close();
    globex.close();
  });
  t.same(acme.events[0], { event: 'ready', data: { organization: 'acme' } });

  const [acmeEnv] = h.acme.environmentIds;
  const [globexEnv] = h.globex.environmentIds;
  // globex changes first: by the time acme's own change arrives, globex's has been through the hub.
  await setReady(h.db.pool, globexEnv ?? 0, 'False', 'globex is down');
  await setReady(h.db.pool, acmeEnv ?? 0, 'False', 'acme is down');
  const mine = await waitFor('acme’s change on acme’s stream', async () => acme.events.find((e) => e.event === 'environment'));
  t.match(mine.data, { id: acmeEnv, state: { word: 'Pending', message: 'acme is down' } }, 'the change, as the API shows an environment');
  await waitFor('globex’s change on globex’s stream', async () => globex.events.some((e) => e.event === 'environment'));
  const seenByAcme = acme.events.filter((e) => e.event === 'environment').map((e) => (e.data as { id: number }).id);
  const seenByGlobex = globex.events.filter((e) => e.event === 'environment').map((e) => (e.data as { id: number }).id);
  t.same(seenByAcme, [acmeEnv], 'acme never saw globex’s environment');
  t.same(seenByGlobex, [globexEnv], 'globex never saw acme’s environment');
  t.notOk(JSON.stringify(acme.events).includes('globex'), 'nothing of globex in acme’s stream');
});

t.test('rollback of a local repository: a commit restoring the version; an Idempotency-Key replays it', async (t) => {
  const h = await startApiHarness(t);
  const repo = await createRepo(t);
  const first = await repo.commit('Serve on 8080', { 'wharf.yaml': 'apps:\n  - name: shop\n    files: ["shop.yaml"]\n', 'shop.yaml': 'port: 8080\n' });
  const second = await repo.commit('Serve on 9090', { 'shop.yaml': 'port: 9090\n' });
  const { tenantId, repositoryId } = await seedRepository(h.db.pool, { tenant: 'acme', kind: 'github', provider: 'local', fullName: 'acme/local-shop', url: repo.dir });
  t.equal(tenantId, h.acme.tenantId);
  const ids: number[] = [];
  for (const [i, sha] of [first, second].entries()) {
    const { version } = await h.db.pool.transaction((tx) =>
      versions.insertVersion(tx, {
        tenantId,
        repositoryId,
        sha,
        parentSha: i === 0 ? null : first,
        ref: 'main',
        author: 'Ada <ada@example.com>',
        message: i === 0 ? 'Serve on 8080' : 'Serve on 9090',
        committedAt: null,
        valid: true,
        diagnostics: [],
        manifest: null,
        apps: [{ app: 'shop', digest: `sha256:local${i}`, valid: true, diagnostics: [], spec: null, carriedFromVersionId: null, rollbackOfVersionId: null }],
      }),
    );
    ids.push(version.id);
  }
  const [env] = await seedEnvironments(h.db.pool, [
    { tenantId, repositoryId, app: 'shop', name: 'production', kind: 'production', digest: 'sha256:local1', spec: null, versionId: ids[1] ?? null, converged: { dueInMs: 3_600_000 } },
  ]);
  const commits = async () => Number(await git(repo.dir, 'rev-list', '--count', 'main'));
  const headers = { 'idempotency-key': 'roll-back-friday' };

  const viewer = await h.call('POST', `/api/v1/environments/${env}/rollback`, { token: h.tokens.vic, body: { version: first.slice(0, 7) }, headers });
  t.equal(viewer.status, 403, 'a viewer cannot roll back');
  t.equal(await commits(), 2, 'and nothing was committed');

  const done = await h.call('POST', `/api/v1/environments/${env}/rollback`, { token: h.tokens.dan, body: { version: first.slice(0, 7), reason: 'port 9090 is blocked' }, headers });
  t.equal(done.status, 202);
  t.match(done.body, { mode: 'commit', status: 'committed', environmentId: env, toSha: first, branch: 'main' });
  t.equal(await commits(), 3, 'one commit on the branch');
  t.equal(await git(repo.dir, 'rev-parse', 'main'), done.body.commit, 'the answer names it');
  t.equal(await git(repo.dir, 'rev-parse', 'main^{tree}'), await git(repo.dir, 'rev-parse', `${first}^{tree}`), 'it restores the tree of the version asked for');
  t.equal(await git(repo.dir, 'rev-parse', 'main^'), second, 'on top of what the branch held');
  t.match(await git(repo.dir, 'log', '-1', '--format=%B', 'main'), new RegExp(`^Roll back to ${first.slice(0, 7)}[\\s\\S]*Requested by user:dan: port 9090 is blocked`));
  t.equal(await git(repo.dir, 'show', 'main:shop.yaml'), 'port: 8080', 'the file is as it was');

  const replay = await h.call('POST', `/api/v1/environments/${env}/rollback`, { token: h.tokens.dan, body: { version: first.slice(0, 7), reason: 'port 9090 is blocked' }, headers });
  t.equal(replay.status, 202);
  t.equal(replay.headers['idempotent-replayed'], 'true');
  t.same(replay.body, done.body, 'the first answer, commit and all');
  t.equal(await commits(), 3, 'no second commit');

  const again = await h.call('POST', `/api/v1/environments/${env}/rollback`, { token: h.tokens.dan, body: { version: first.slice(0, 7) } });
  t.equal(again.status, 409, 'without the key, the same rollback is refused: the branch already holds that tree');
  t.equal(again.body.code, 'already-at-version');

  const audit = await h.db.pool.any(sql.unsafe`SELECT actor, action, details FROM audit_log WHERE tenant_id = ${tenantId} AND action = 'rollback-request' ORDER BY id`);
  t.equal(audit.length, 1, 'one rollback in the audit log');
  t.match(audit[0], { actor: 'user:dan', details: { mode: 'commit', commit: done.body.commit, toSha: first } });

  const other = await h.call('POST', `/api/v1/environments/${env}/rollback`, { token: h.tokens.gil, body: { version: first.slice(0, 7) } });
  t.equal(other.status, 404, 'another organization cannot see it');
  t.equal(await commits(), 3);
});
