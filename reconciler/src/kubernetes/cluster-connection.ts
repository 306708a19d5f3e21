/** One connection to one cluster: the HTTP client, the API operations, and the informers opened on it. */
import type { TargetLog } from '@wharf/contracts';
import { createKubeApi, type KubeApi } from './kube-api.js';
import { createKubeHttp, type KubeHttpOptions } from './kube-http.js';
import { loadKubeConfig } from './kubeconfig.js';

export interface ClusterConnection {
  /** The context (`kubernetes:<cluster>`), or null for the current one. */
  context: string | null;
  api: KubeApi;
  close(): void;
}

export async function connectCluster(kubeconfig: string, context: string | null, _log: TargetLog, options: KubeHttpOptions = {}): Promise<ClusterConnection> {
  const kc = loadKubeConfig(kubeconfig, context);
  const http = await createKubeHttp(kc, options);
  return { context, api: createKubeApi(http), close: () => http.close() };
}
