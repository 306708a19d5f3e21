/** wharf.yaml: defaults, the default manifest, globs, and errors at the right place. */
import t from 'tap';
import {
  DEFAULT_APP_FILENAMES,
  MANIFEST_FILENAMES,
  appFileDiagnostics,
  appFilePaths,
  defaultManifest,
  parseManifest,
} from '../src/index.js';

t.same(MANIFEST_FILENAMES, ['wharf.yaml', '.wharf.yaml']);
t.same(DEFAULT_APP_FILENAMES, ['workflow.yaml', 'app.yaml']);

t.test('a minimal manifest gets every default', async (t) => {
  const { manifest, diagnostics } = parseManifest('wharf.yaml', 'apps:\n  - name: shop\n    files: [shop.yaml]\n');
  t.same(diagnostics, []);
  t.same(manifest, {
    productionBranch: 'main',
    apps: [{ name: 'shop', files: ['shop.yaml'], runtime: {}, replicas: 1, env: [], target: 'local', driftMode: 'correct' }],
    previews: { enabled: true, ttlHours: 72, forkPolicy: 'approval', maxConcurrent: 10, drafts: false },
    comments: { enabled: true },
  });
});

t.test('a full manifest is read as written', async (t) => {
  const text = `# yaml-language-server: $schema=https://wharf.dev/schemas/wharf-manifest.schema.json
productionBranch: release
apps:
  - name: shop
    files: ["apps/shop/*.yaml"]
    runtime: { image: ghcr.io/acme/workflow:1.4 }
    replicas: 3
    target: agent:proxmox-eu
    driftMode: warn
    env:
      - name: LOG_LEVEL
        value: debug
      - name: DATABASE_URL
        secretRef: { name: shop-db, key: url }
  - name: admin
    files: [admin.yaml]
    target: kubernetes
previews:
  enabled: false
  ttlHours: 12
  forkPolicy: never
  maxConcurrent: 2
  drafts: true
comments:
  enabled: false
`;
  const { manifest, diagnostics } = parseManifest('wharf.yaml', text);
  t.same(diagnostics, []);
  t.equal(manifest?.productionBranch, 'release');
  t.match(manifest?.apps[0], {
    name: 'shop',
    runtime: { image: 'ghcr.io/acme/workflow:1.4' },
    replicas: 3,
    target: 'agent:proxmox-eu',
    driftMode: 'warn',
    env: [{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'DATABASE_URL', secretRef: { name: 'shop-db', key: 'url' } }],
  });
  t.match(manifest?.apps[1], { name: 'admin', target: 'kubernetes', replicas: 1, runtime: {} });
  t.same(manifest?.previews, { enabled: false, ttlHours: 12, forkPolicy: 'never', maxConcurrent: 2, drafts: true });
  t.same(manifest?.comments, { enabled: false });
});

t.test('every problem is reported at once, sorted by line', async (t) => {
  const text = 'apps:\n  - name: Shop\n    files: [a.yaml]\n    replicas: -1\n    target: cloud\npreviews:\n  ttlHours: 0\n';
  const { manifest, diagnostics } = parseManifest('wharf.yaml', text);
  t.equal(manifest, undefined);
  t.same(
    diagnostics.map((d) => [d.line, d.code]),
    [
      [2, 'WHARF114'],
      [4, 'WHARF114'],
      [5, 'WHARF114'],
      [7, 'WHARF114'],
    ],
  );
});

t.test('YAML errors and non-mappings are diagnostics, never exceptions', async (t) => {
  t.match(parseManifest('wharf.yaml', 'apps: [').diagnostics, [{ code: 'WHARF100', severity: 'error' }]);
  t.match(parseManifest('wharf.yaml', '').diagnostics, [{ code: 'WHARF105', line: 1 }]);
  t.match(parseManifest('wharf.yaml', '- a\n- b\n').diagnostics, [{ code: 'WHARF105', line: 1 }]);
  t.match(parseManifest('wharf.yaml', 'apps: []\n').diagnostics, [{ code: 'WHARF114', line: 1 }]);
});

t.test('the default manifest: workflow.yaml or app.yaml at the root', async (t) => {
  t.equal(defaultManifest(['README.md', 'src/workflow.yaml']), undefined, 'not at the root: no app');
  t.match(defaultManifest(['app.yaml', 'README.md']), { apps: [{ name: 'app', files: ['app.yaml'], replicas: 1, target: 'local' }] });
  t.match(defaultManifest(['./workflow.yaml', 'app.yaml'], 'shop'), { apps: [{ name: 'shop', files: ['workflow.yaml'] }] }, 'workflow.yaml wins');
  t.match(defaultManifest(['workflow.yaml']), { productionBranch: 'main', previews: { enabled: true } });
});

t.test('app files: paths and globs, sorted, without duplicates', async (t) => {
  const app = { name: 'shop', files: ['apps/shop/*.yaml', 'shared/common.yaml', 'apps/shop/main.yaml'], runtime: {}, replicas: 1, env: [], target: 'local', driftMode: 'correct' as const };
  const all = ['apps/shop/main.yaml', './apps/shop/extra.yaml', 'apps/shop/nested/x.yaml', 'apps/admin/main.yaml', 'shared/common.yaml', 'apps/shop/.hidden.yaml'];
  t.same(appFilePaths(app, all), ['apps/shop/extra.yaml', 'apps/shop/main.yaml', 'shared/common.yaml']);
  t.same(appFilePaths({ ...app, files: ['apps/**/*.yaml'] }, all), ['apps/admin/main.yaml', 'apps/shop/extra.yaml', 'apps/shop/main.yaml', 'apps/shop/nested/x.yaml']);
  t.same(appFilePaths({ ...app, files: ['nothing/*.yaml'] }, all), []);
  t.match(appFileDiagnostics('wharf.yaml', app, [], 64), [{ code: 'WHARF142', file: 'wharf.yaml' }]);
  t.match(appFileDiagnostics('wharf.yaml', app, ['a', 'b', 'c'], 2), [{ code: 'WHARF104' }]);
  t.same(appFileDiagnostics('wharf.yaml', app, ['a'], 2), []);
});

t.test('the Manifest type is the shape other workspaces code against', async (t) => {
  type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
  type Expected = {
    productionBranch: string;
    apps: {
      name: string;
      files: string[];
      runtime: { command?: string[]; image?: string };
      replicas: number;
      env: { name: string; value?: string; secretRef?: { name: string; key: string } }[];
      target: string;
      driftMode: 'correct' | 'warn';
    }[];
    previews: { enabled: boolean; ttlHours: number; forkPolicy: 'never' | 'approval' | 'always'; maxConcurrent: number; drafts: boolean };
    comments: { enabled: boolean };
  };
  const same: Same<import('../src/index.js').Manifest, Expected> = true;
  t.ok(same);
});
