/** The WorkflowApp contract: the schema accepts what the types describe and refuses what they do not. */
import t from 'tap';
import { type WorkflowApp, validateWorkflowApp, WORKFLOW_APP_API_VERSION, WORKFLOW_APP_KIND } from '../src/index.js';

const app = {
  apiVersion: WORKFLOW_APP_API_VERSION,
  kind: WORKFLOW_APP_KIND,
  metadata: { name: 'shop-production', namespace: 'wharf', generation: 3, labels: { 'wharf.dev/app': 'shop' } },
  spec: {
    app: 'shop',
    environment: 'production',
    version: { sha: '0123456789abcdef0123456789abcdef01234567', digest: 'sha256:abc' },
    files: [{ path: 'workflow.yaml', content: 'modules: []\n' }],
    runtime: { command: ['wharf-runtime'] },
    replicas: 2,
    resources: { cpu: '250m', memory: '256Mi' },
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'DATABASE_URL', secretRef: { name: 'shop-db', key: 'url' } },
    ],
  },
  status: {
    observedGeneration: 3,
    observedDigest: 'sha256:abc',
    url: 'http://shop.localhost',
    conditions: [{ type: 'Ready', status: 'True', reason: 'RolloutSucceeded', message: 'ok', lastTransitionTime: '2026-11-22T03:00:00Z' }],
  },
} satisfies WorkflowApp;

t.same(validateWorkflowApp(app), { ok: true, errors: [] });

const broken = (patch: (a: typeof app) => unknown) => validateWorkflowApp(patch(structuredClone(app)));

t.test('refused', async (t) => {
  t.match(broken((a) => ({ ...a, kind: 'Deployment' })), { ok: false, errors: [/\/kind/] });
  t.match(broken((a) => ({ ...a, spec: { ...a.spec, replicas: -1 } })), { ok: false, errors: [/\/spec\/replicas/] });
  t.match(broken((a) => ({ ...a, spec: { ...a.spec, version: { sha: 'main', digest: 'x' } } })), { ok: false }, 'a branch name is not a sha');
  t.match(
    broken((a) => ({ ...a, spec: { ...a.spec, env: [{ name: 'TOKEN', value: 'x', secretRef: { name: 's', key: 'k' } }] } })),
    { ok: false },
    'value and secretRef together',
  );
  t.match(broken((a) => ({ ...a, spec: { ...a.spec, password: 'x' } })), { ok: false }, 'unknown spec fields');
  t.match(
    broken((a) => ({ ...a, status: { conditions: [{ type: 'Healthy', status: 'True', reason: 'x', message: '', lastTransitionTime: 'now' }] } })),
    { ok: false },
    'only the four condition types',
  );
});
