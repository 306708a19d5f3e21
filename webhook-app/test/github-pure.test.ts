import t from 'tap';
import { decidePreview, parseCommand, renderComment, renderValidateCheck } from '../src/index.js';

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
