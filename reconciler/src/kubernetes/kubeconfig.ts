/**
 * Where Wharf's Kubernetes credentials come from: a kubeconfig file (its current context, or a named context for
 * `kubernetes:<cluster>`), or `in-cluster`: the pod's service account token and CA, as every controller does.
 * Parsed by @kubernetes/client-node, so exec plugins, OIDC and client certificates work as they do in kubectl.
 */
import { KubeConfig } from '@kubernetes/client-node';

export const IN_CLUSTER = 'in-cluster' as const;

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

/** A KubeConfig for one cluster: the current context, or `context` when given. */
export function loadKubeConfig(source: string, context?: string | null): KubeConfig {
  const kc = new KubeConfig();
  if (source === IN_CLUSTER) {
    if (context) throw new KubeconfigError(`kubernetes:${context} needs a kubeconfig with a context named "${context}"; in-cluster credentials reach only the cluster Wharf runs in`);
    kc.loadFromCluster();
    const server = kc.getCurrentCluster()?.server ?? '';
    if (!URL.canParse(server) || server.includes('undefined')) {
      throw new KubeconfigError(
        'in-cluster credentials need a pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, the service account token and CA); outside a cluster set WHARF_KUBECONFIG to a kubeconfig file',
      );
    }
    return kc;
  }
  try {
    kc.loadFromFile(source);
  } catch (err) {
    throw new KubeconfigError(`cannot read the kubeconfig ${source}: ${(err as Error).message}`);
  }
  if (context) {
    if (!kc.getContexts().some((c) => c.name === context)) {
      throw new KubeconfigError(`the kubeconfig ${source} has no context named "${context}" (kubernetes:${context}); it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}`);
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeconfigError(`the kubeconfig ${source} has no current cluster`);
  if (!URL.canParse(cluster.server)) throw new KubeconfigError(`the kubeconfig ${source}: cluster "${cluster.name}" has no valid server URL (${JSON.stringify(cluster.server)})`);
  return kc;
}
