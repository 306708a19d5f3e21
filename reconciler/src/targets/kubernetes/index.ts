import type { TargetFactory } from '../target-factory.js';
import { createKubernetesTarget, type KubernetesTarget, type KubernetesTargetSettings } from './kubernetes-target.js';

export type { KubernetesTarget, KubernetesTargetSettings } from './kubernetes-target.js';
export { createKubernetesTarget } from './kubernetes-target.js';

/** `kubernetes` (the kubeconfig's current context, or in-cluster) or `kubernetes:<context>`. */
export const kubernetesTargetFactory: TargetFactory<Omit<KubernetesTargetSettings, 'log'>, KubernetesTarget> = {
  qualifier: 'optional',
  create: async (settings, deps) => createKubernetesTarget({ ...settings, log: deps.log }),
};
