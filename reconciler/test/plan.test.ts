import { diffConfig, plan, renderPlan } from '@wharf/contracts';
import t from 'tap';
import { specFor } from './helpers.js';

const desired = (version: string | null, generation = 2, deletionRequested = false) => ({
  generation,
  digest: version ? `sha256:${version}` : null,
  spec: version ? specFor('shop', 'prod', version) : null,
  deletionRequested,
});
const running = (version: string, healthy = true) => ({ exists: true, digest: `sha256:${version}`, healthy });

t.test('nothing deployed: create', async (t) => {
  const p = plan(desired('v1', 1), { generation: 0, digest: null, spec: null, runtime: { exists: false, digest: null, healthy: false } });
  t.match(p.actions, [{ type: 'create', reason: 'NewEnvironment', drift: false }]);
  t.ok(p.diff.changes.some((c) => c.kind === 'module' && c.name === 'server' && c.change === 'added'));
});

t.test('new digest: update, with the config diff by name', async (t) => {
  const before = specFor('shop', 'prod', 'v1');
  const after = specFor('shop', 'prod', 'v2', {
    files: [
      {
        path: 'app.yaml',
        content: [
          'modules:',
          '  - name: server',
          '    type: http.server',
          '    config: { address: ":9090" }',
          '  - name: router',
          '    type: http.router',
          'workflows:',
          '  http:',
          '    router: router',
          '    routes:',
          '      - { method: GET, path: /health, handler: h }',
          'pipelines:',
          '  create-order:',
          '    steps: []',
        ].join('\n'),
      },
    ],
  });
  const p = plan(
    { generation: 2, digest: 'sha256:v2', spec: after, deletionRequested: false },
    { generation: 1, digest: 'sha256:v1', spec: before, runtime: running('v1') },
  );
  t.match(p.actions, [{ type: 'update', reason: 'VersionChanged', drift: false }]);
  t.same(
    p.diff.changes.map((c) => `${c.change} ${c.kind} ${c.name}`),
    ['changed file app.yaml', 'added module router', 'changed module server', 'added pipeline create-order', 'added workflow http', 'added route GET /health'],
  );
  const text = renderPlan(p, { title: 'prod of shop' });
  t.match(text, /update \(VersionChanged\)/);
  t.match(text, /\+ module router/);
  t.match(text, /3 to add|4 to add/);
});

t.test('same digest already running at a new generation: noop', async (t) => {
  const p = plan(desired('v1', 3), { generation: 2, digest: 'sha256:v1', spec: null, runtime: running('v1') });
  t.match(p.actions, [{ type: 'noop', reason: 'GenerationOnly' }]);
});

t.test('drift: runtime missing, wrong digest, unhealthy', async (t) => {
  const obs = (runtime: { exists: boolean; digest: string | null; healthy: boolean }) => ({ generation: 2, digest: 'sha256:v1', spec: null, runtime });
  t.match(plan(desired('v1'), obs({ exists: false, digest: null, healthy: false })).actions, [{ type: 'create', reason: 'RuntimeMissing', drift: true }]);
  t.match(plan(desired('v1'), obs(running('v0'))).actions, [{ type: 'update', reason: 'DigestDrift', drift: true }]);
  t.match(plan(desired('v1'), obs(running('v1', false))).actions, [{ type: 'restart', reason: 'RuntimeUnhealthy', drift: true }]);
  t.match(plan(desired('v1'), obs(running('v1'))).actions, [{ type: 'noop', reason: 'UpToDate' }]);
});

t.test('teardown and no version', async (t) => {
  t.match(plan(desired('v1', 3, true), { generation: 2, digest: 'sha256:v1', spec: null, runtime: running('v1') }).actions, [
    { type: 'delete', reason: 'DeletionRequested' },
  ]);
  t.match(
    plan(desired('v1', 3, true), { generation: 2, digest: 'sha256:v1', spec: null, runtime: { exists: false, digest: null, healthy: false } }).actions,
    [{ type: 'noop', reason: 'AlreadyDeleted' }],
  );
  t.match(plan(desired(null), { generation: 0, digest: null, spec: null, runtime: null }).actions, [{ type: 'noop', reason: 'NoVersion' }]);
});

t.test('diff without observation (wharf diff) still plans the update', async (t) => {
  const p = plan(desired('v2'), { generation: 1, digest: 'sha256:v1', spec: specFor('shop', 'prod', 'v1'), runtime: null });
  t.match(p.actions, [{ type: 'update' }]);
  t.same(diffConfig('shop', null, null).changes, []);
});
