/**
 * The App's secrets never leave it (issue 11): with a known private key and webhook secret, the whole story (a push,
 * a pull request with checks and a preview, commands, a fork, GitHub failing and rate limiting, a preview failing,
 * a merge, a revert) is run with every log line kept, and nothing anyone else sees (logs, /metrics, /readyz, check
 * runs, deployments and their statuses, comments, what was stored about failures) contains the key, the secret or an
 * installation token the fake GitHub minted.
 */
import { generateKeyPairSync } from 'node:crypto';
import { sql } from '@wharf/store';
import { capturingLog, issueCommentPayload, pullRequestPayload, pushPayload } from '@wharf/testkit';
import t from 'tap';
import { manifest, REPO, startHarness, WEBHOOK_SECRET, workflow } from './helpers/harness.js';

const ZERO = '0'.repeat(40);

t.test('no private key, webhook secret or installation token in anything Wharf says, whatever happens', async (t) => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const { log, lines } = capturingLog('trace');
  const h = await startHarness(t, { keys, log });
  let commentId = 8000;
  const say = async (n: number, sender: string, body: string) => {
    commentId += 1;
    h.fake.state.comments.push({ id: commentId, repo: REPO.fullName, issue: n, body, user: sender, reactions: [], edits: 0 });
    await h.deliver('issue_comment', issueCommentPayload(REPO, { issueNumber: n, body, commentId, sender }));
    await h.settle();
  };
  h.fake.state.setPermission(REPO.fullName, 'octocat', 'admin');

  // A push deploys production.
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();

  // GitHub fails and rate-limits while a pull request gets its checks, preview and comment.
  h.fake.inject({ fault: { kind: 'server-error', status: 502 }, times: 2, method: 'POST', template: '/repos/{owner}/{repo}/check-runs' });
  h.fake.inject({ fault: { kind: 'rate-limit', resetInSeconds: 0 }, times: 2, method: 'POST', template: '/repos/{owner}/{repo}/issues/{issue_number}/comments' });
  h.fake.inject({ fault: { kind: 'secondary-rate-limit', retryAfterSeconds: 1 }, times: 2, method: 'POST', template: '/repos/{owner}/{repo}/deployments' });
  const head = await h.commit('feature-51', 'a change', { 'apps/shop/main.yaml': workflow(8081) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 51, headSha: head, headRef: 'feature-51' }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.conclusion, 'success', 'the preview is ready');
  await say(51, 'octocat', '/wharf redeploy');
  await say(51, 'someone', '/wharf help');
  await say(51, 'someone', '/wharf preview');

  // A preview that fails, then an invalid commit.
  const original = h.target.apply.bind(h.target);
  h.target.apply = async (env, ctx) => {
    if (env.name === 'pr-52') throw new Error('runtime exited with code 1');
    return original(env, ctx);
  };
  const broken = await h.commit('feature-52', 'breaks', { 'apps/shop/main.yaml': workflow(8082) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 52, headSha: broken, headRef: 'feature-52' }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, broken, 'wharf/preview')?.conclusion, 'failure', 'the failing preview is reported');
  const invalid = await h.commit('feature-52', 'invalid', { 'apps/shop/main.yaml': 'modules: [\n' });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'synchronize', number: 52, headSha: invalid, headRef: 'feature-52' }));
  await h.settle();

  // A fork, approved by a maintainer.
  const fork = await h.forkCommit(53, 'from a fork', { 'apps/shop/main.yaml': workflow(8083) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 53, headSha: fork, headRef: 'patch-1', forkFullName: 'mallory/shop', sender: 'mallory' }));
  await h.settle();
  await say(53, 'octocat', '/wharf preview');

  // Merge, then revert the merge on main.
  const merged = await h.commit('main', 'Merge pull request #51', { 'apps/shop/main.yaml': workflow(8081) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'closed', number: 51, headSha: head, headRef: 'feature-51', merged: true, mergeCommitSha: merged }));
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: base, after: merged }));
  await h.settle();
  const reverted = await h.commit('main', 'Revert "Merge pull request #51"', { 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: merged, after: reverted }));
  await h.settle();
  t.match(h.fake.state.deploymentsFor(REPO.fullName, 'production').at(-1)?.description, /rollback to/, 'the revert deployed as a rollback');
  await say(51, 'octocat', `/wharf rollback ${base.slice(0, 7)}`);

  // Everything anyone else can see.
  const metrics = (await h.server.inject({ method: 'GET', url: '/metrics' })).body;
  const readyz = (await h.server.inject({ method: 'GET', url: '/readyz' })).body;
  const stored = await h.db.pool.anyFirst(sql.unsafe`
    SELECT coalesce(last_error, '') FROM outbox UNION ALL SELECT coalesce(last_error, '') FROM webhook_deliveries
    UNION ALL SELECT reason || details::text FROM audit_log`);
  const seen: Record<string, string> = {
    logs: lines.map((l) => JSON.stringify(l.obj)).join('\n'),
    metrics,
    readyz,
    'check runs': JSON.stringify(h.fake.state.checkRuns),
    deployments: JSON.stringify(h.fake.state.deployments),
    comments: JSON.stringify(h.fake.state.comments),
    'requests to GitHub': JSON.stringify(h.fake.requests.map((r) => [r.path, r.body])),
    'stored errors and audit': stored.join('\n'),
  };
  const pemBody = keys.privateKey.split('\n').filter((l) => l && !l.startsWith('-----'));
  const tokens = [...h.fake.state.tokens.keys()];
  t.ok(tokens.length > 0, `the fake minted ${tokens.length} installation tokens`);
  t.ok(lines.length > 100, `${lines.length} log lines kept`);
  t.ok(h.fake.requests.some((r) => r.status >= 500) && h.fake.requests.some((r) => r.status === 403), 'GitHub failed and rate-limited along the way');
  const secrets: [string, string][] = [
    ['webhook secret', WEBHOOK_SECRET],
    ['private key (PEM header)', 'PRIVATE KEY-----'],
    ...pemBody.map((line, i): [string, string] => [`private key line ${i + 1}`, line]),
    ...tokens.map((token, i): [string, string] => [`installation token ${i + 1}`, token]),
  ];
  for (const [where, text] of Object.entries(seen)) {
    const hits = secrets.filter(([, secret]) => text.includes(secret)).map(([name]) => name);
    t.same(hits, [], `${where}: no secret`);
  }
  t.same(h.fake.problems, []);
});

