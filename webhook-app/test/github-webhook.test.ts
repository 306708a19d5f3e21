import { randomUUID } from 'node:crypto';
import { deliveries } from '@wharf/store';
import { examplePayload, pullRequestPayload, signedDelivery, signPayload } from '@wharf/testkit';
import t from 'tap';
import { REPO, startHarness, WEBHOOK_SECRET, workflow } from './helpers/harness.js';

t.test('webhook deliveries: signatures, redeliveries, events Wharf does not handle, repositories without a manifest', async (t) => {
  const h = await startHarness(t);
  await h.commit('main', 'initial', { 'README.md': '# shop\n' });
  const head = await h.commit('feature-3', 'no manifest here', { 'README.md': '# shop\n', 'src/x.yaml': workflow() });
  const payload = pullRequestPayload(REPO, { action: 'opened', number: 3, headSha: head, headRef: 'feature-3' });

  const before = await deliveries.countDeliveries(h.db.pool);
  const d = signedDelivery('the-wrong-secret', 'pull_request', payload);
  const wrong = await h.server.inject({ method: 'POST', url: '/api/github/webhooks', headers: d.headers, payload: d.body });
  t.equal(wrong.statusCode, 401, 'a wrong signature is refused');
  const { 'x-hub-signature-256': _, ...unsigned } = d.headers;
  const missing = await h.server.inject({ method: 'POST', url: '/api/github/webhooks', headers: unsigned, payload: d.body });
  t.equal(missing.statusCode, 401, 'a missing signature is refused');
  const good = signedDelivery(WEBHOOK_SECRET, 'pull_request', payload);
  const tampered = await h.server.inject({ method: 'POST', url: '/api/github/webhooks', headers: good.headers, payload: good.body.replace('"opened"', '"closed"') });
  t.equal(tampered.statusCode, 401, 'a body changed after signing is refused');
  await h.settle();
  t.same(await deliveries.countDeliveries(h.db.pool), before, 'nothing stored');
  t.equal(h.fake.state.checkRuns.length, 0, 'nothing processed');

  const id = randomUUID();
  const first = await h.deliver('pull_request', payload, id);
  t.equal(first.status, 202, 'stored and acknowledged');
  const again = await h.deliver('pull_request', payload, id);
  t.equal(again.status, 200, 'a redelivery is acknowledged');
  t.same(again.body, { delivery: id, stored: false }, 'and not stored again');
  await h.settle();
  const third = await h.deliver('pull_request', payload, id);
  t.equal(third.status, 200);
  await h.settle();
  const row = await deliveries.getDelivery(h.db.pool, id);
  t.equal(row?.status, 'done');
  t.equal(row?.attempts, 1, 'processed once');
  t.equal(h.fake.state.checkRunsFor(REPO.fullName, head, 'wharf/validate').length, 1, 'one validate check run');

  const validate = h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate');
  t.equal(validate?.conclusion, 'neutral', 'no manifest: a neutral check');
  t.match(validate?.output.summary, /commit a `wharf\.yaml`/, 'that explains how to add one');
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.conclusion, 'neutral');

  const star = examplePayload('star', 'created');
  star.installation = { id: REPO.installationId };
  const starred = await h.deliver('star', star);
  t.equal(starred.status, 202, 'an event Wharf does not handle is stored and acknowledged');
  await h.settle();
  t.equal((await deliveries.getDelivery(h.db.pool, starred.id))?.status, 'ignored', 'and ignored');

  const body = JSON.stringify(payload);
  const notJsonType = await h.server.inject({
    method: 'POST',
    url: '/api/github/webhooks',
    headers: { ...good.headers, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signPayload(WEBHOOK_SECRET, body) },
    payload: body,
  });
  t.equal(notJsonType.statusCode, 202);
  t.same(h.fake.problems, []);
});
