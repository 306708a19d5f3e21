import type { WorkflowAppSpec } from '@wharf/contracts';

export const specFor = (app: string, env: string, version: string): WorkflowAppSpec => ({
  app,
  environment: env,
  version: { sha: version.padEnd(40, '0').slice(0, 40), digest: `sha256:${version}` },
  files: [{ path: 'app.yaml', content: 'modules: []\n' }],
  runtime: {},
  replicas: 1,
  env: [],
});
