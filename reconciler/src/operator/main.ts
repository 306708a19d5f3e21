#!/usr/bin/env -S node --import tsx
/**
 * The in-cluster operator: reconciles WorkflowApp resources into ConfigMaps, Deployments, Services, routes and volume
 * claims, and writes their status. Same as `reconciler/src/main.ts --operator` and `wharf operator`.
 *   WHARF_KUBECONFIG=in-cluster node --import tsx reconciler/src/operator/main.ts
 */
import { startOperatorDeployable } from './deployable.js';

try {
  const stopped = new Promise<string>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve(s));
  });
  let fatal: (reason: string) => void = () => {};
  const lost = new Promise<string>((resolve) => (fatal = resolve));
  const operator = await startOperatorDeployable(process.env, (reason) => fatal(reason));
  const why = await Promise.race([stopped, lost]);
  process.stderr.write(`${why}: stopping\n`);
  await operator.stop();
  process.exit(why.startsWith('SIG') ? 0 : 1);
} catch (err) {
  const name = (err as Error).name;
  if (name !== 'SettingsError' && name !== 'StartupError') throw err;
  process.stderr.write(`operator: ${(err as Error).message}\n`);
  process.exit(1);
}
