/**
 * What a delivery makes Wharf fetch, and what it says when the fetch is refused (issue 11): a push fetches the pushed
 * branch only, a pull request its `refs/pull/<n>/head`, and a push or pull request over the fetch limits gets a failed
 * wharf/validate check with the reason instead of being retried forever or taking memory.
 */
import { randomBytes } from 'node:crypto';
import { deliveries, desiredState } from '@wharf/store';
import { pullRequestPayload, pushPayload } from '@wharf/testkit';
import t from 'tap';
import { manifest, REPO, startHarness, workflow } from './helpers/harness.js';

const ZERO = '0'.repeat(40);
const LIMIT = 256 * 1024;
/** Incompressible bytes: a pack carrying them is as big as they are. */
const blob = (bytes: number) => randomBytes(bytes).toString('base64');

t.test('a pull request whose head is over the pack limit fails wharf/validate with the reason; nothing is deployed or retried', async (t) => {
  const h = await startHarness(t, { maxPackBytes: LIMIT });
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  const head = await h.forkCommit(31, 'a big file', { 'apps/shop/main.yaml': workflow(8081), 'assets/big.bin': blob(4 * LIMIT) });
  const { id } = await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 31, headSha: head, headRef: 'patch-1', forkFullName: 'mallory/shop' }));
  await h.settle();
  const check = h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate');
  t.equal(check?.conclusion, 'failure', 'wharf/validate fails');
  t.match(check?.output.title, /over a fetch limit/);
  t.match(check?.output.summary, /pack for refs\/pull\/31\/head is over 256 KiB \(limit\); nothing was stored/, "with the fetch's own message");
  t.equal((await deliveries.getDelivery(h.db.pool, id))?.status, 'done', 'the delivery is done, not retried');
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-31').length, 0, 'nothing deployed');
  t.same(h.fake.problems, []);
});

t.test('a push of the production branch over the pack limit fails wharf/validate on that commit; production stays', async (t) => {
  const h = await startHarness(t, { maxPackBytes: LIMIT });
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  const big = await h.commit('main', 'a big file on main', { 'apps/shop/main.yaml': workflow(9090), 'assets/big.bin': blob(4 * LIMIT) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: base, after: big }));
  await h.settle();
  const check = h.fake.state.latestCheckRun(REPO.fullName, big, 'wharf/validate');
  t.equal(check?.conclusion, 'failure');
  t.match(check?.output.summary, /pack for refs\/heads\/main is over 256 KiB \(limit\); nothing was stored/);
  const production = (await desiredState.listRepositoryEnvironments(h.db.pool, await h.repository())).find((e) => e.name === 'production');
  t.equal((production?.desired_spec as { version?: { sha?: string } } | null)?.version?.sha, base, 'production stays on its last good version');
  t.same(h.fake.state.deploymentsFor(REPO.fullName, 'production').map((d) => d.sha), [base]);
  t.same(h.fake.problems, []);
});

t.test('a push fetches the pushed branch only, and only when its head is read', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  const before = h.gitRequests.length;
  const other = await h.commit('feature-x', 'a branch with no pull request', { 'apps/shop/main.yaml': workflow(8081) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/feature-x', before: ZERO, after: other }));
  await h.settle();
  t.same(h.gitRequests.slice(before), [], 'a push to a branch that is not production asks the remote nothing');
  const next = await h.commit('main', 'second', { 'apps/shop/main.yaml': workflow(8082) });
  const from = h.gitRequests.length;
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: base, after: next }));
  await h.settle();
  const asked = h.gitRequests.slice(from);
  t.ok(asked.length > 0 && asked.every((r) => r.path.endsWith('/acme/shop.git/git-upload-pack') || r.path.endsWith('/info/refs')), 'the production push fetched');
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'production').at(-1)?.sha, next, 'and deployed');
  t.same(h.fake.problems, []);
});

t.test('a pull request whose refs/pull/<n>/head GitHub does not have gets the "could not be read" check', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  const sha = 'e'.repeat(40);
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 32, headSha: sha, headRef: 'patch-1', forkFullName: 'mallory/shop' }));
  await h.settle();
  const check = h.fake.state.latestCheckRun(REPO.fullName, sha, 'wharf/validate');
  t.equal(check?.conclusion, 'neutral');
  t.match(check?.output.summary, /refs\/pull\/32\/head is not on the remote/);
  t.same(h.fake.problems, []);
});
