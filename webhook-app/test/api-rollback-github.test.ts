/**
 * Rollback through the REST API in GitHub mode: the whole GitHub App on loopback (real Git remote, real source and
 * reconciler, the strict fake GitHub) and the API unit on the same database. The API queues a revert pull request;
 * the App's outbox drain opens it; production does not move until it is merged; a replayed Idempotency-Key opens no
 * second pull request.
 */
import { createHmac } from 'node:crypto';
import { formatToken, loadSettings } from '@wharf/contracts';
import { apiKeys, sql } from '@wharf/store';
import { pushPayload, tempDir } from '@wharf/testkit';
import { Registry } from 'prom-client';
import t from 'tap';
import { apiUnit, buildServer, controlPlaneSettings } from '../src/index.js';
import { manifest, REPO, startHarness, workflow } from './helpers/harness.js';

const ZERO = '0'.repeat(40);
const PEPPER = 'rollback-test-pepper-rollback-test-pepper';

t.test('a rollback asked through the API opens a revert pull request; a retry with the same key opens no other', async (t) => {
  const h = await startHarness(t);
  const first = await h.commit('main', 'v1', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: first }));
  await h.settle();
  const second = await h.commit('main', 'v2', { 'apps/shop/main.yaml': workflow(9090) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: first, after: second }));
  await h.settle();

  const { tenantId } = await h.repository();
  const key = formatToken('apiKey', Buffer.alloc(30, 7));
  await apiKeys.createApiKey(h.db.pool, { tenantId }, {
    name: 'chatops',
    prefix: key.slice(0, 10),
    secretHash: createHmac('sha256', Buffer.from(PEPPER)).update(key).digest(),
    scopes: ['deploy'],
    permissions: ['organization:read', 'environments:read', 'environments:deploy', 'repositories:read'],
    repositoryIds: null,
    createdBy: 'test',
    expiresInDays: null,
  });
  const dir = await tempDir(t, 'wharf-api-gh-');
  const settings = loadSettings(controlPlaneSettings, { DATABASE_URL: h.db.url, WHARF_API_PEPPER: PEPPER, WHARF_DATA_DIR: dir, WHARF_LOG_LEVEL: 'silent' });
  const unit = await apiUnit({ pool: h.db.pool, log: h.silentLog, registry: new Registry(), settings, dataDir: dir, databaseUrl: h.db.url });
  if (!unit) throw new Error('the API unit is always built');
  const api = await buildServer({ log: h.silentLog, pool: h.db.pool, registry: new Registry(), version: 'test', units: [unit] });
  t.teardown(async () => {
    await api.close();
    await unit.stop?.();
  });
  const production = Number(await h.db.pool.oneFirst(sql.unsafe`SELECT id FROM environments WHERE tenant_id = ${tenantId} AND app = 'shop' AND name = 'production'`));
  const rollback = () =>
    api.inject({
      method: 'POST',
      url: `/api/v1/environments/${production}/rollback`,
      headers: { authorization: `Bearer ${key}`, 'idempotency-key': 'chatops-42' },
      payload: { version: first.slice(0, 7), reason: 'v2 breaks checkout' },
    });

  const asked = await rollback();
  t.equal(asked.statusCode, 202);
  t.match(asked.json(), { mode: 'pull-request', status: 'queued', commit: null, toSha: first, branch: 'main' });
  await h.settle();
  const pulls = h.fake.state.pulls.filter((p) => p.title.startsWith('Roll back to'));
  t.equal(pulls.length, 1, 'one revert pull request');
  const pull = pulls[0];
  t.equal(pull?.title, `Roll back to ${first.slice(0, 7)}`);
  t.equal(pull?.base, 'main');
  const head = h.fake.state.refs.get(`${REPO.fullName}:refs/heads/${pull?.head}`) ?? '';
  const commit = h.fake.state.commits.get(`${REPO.fullName}@${head}`);
  t.equal(commit?.tree, h.fake.state.commits.get(`${REPO.fullName}@${first}`)?.tree, 'its commit restores the tree of the version asked for');
  t.same(commit?.parents, [second], 'on top of the production branch');
  t.match(commit?.message, /Requested by key:wharf_\w+ \(chatops\) through the Wharf API/);
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'production').at(-1)?.sha, second, 'production stays until the pull request is merged');

  const replay = await rollback();
  t.equal(replay.statusCode, 202);
  t.equal(replay.headers['idempotent-replayed'], 'true');
  t.same(replay.json(), asked.json());
  await h.settle();
  t.equal(h.fake.state.pulls.filter((p) => p.title.startsWith('Roll back to')).length, 1, 'no second pull request');
  const audit = await h.db.pool.anyFirst(sql.unsafe`SELECT actor FROM audit_log WHERE tenant_id = ${tenantId} AND action = 'rollback-request'`);
  t.same(audit, [`key:${key.slice(0, 10)} (chatops)`], 'audited once, with the key');
  t.same(h.fake.problems, [], 'every request to GitHub was one its API accepts');
});
