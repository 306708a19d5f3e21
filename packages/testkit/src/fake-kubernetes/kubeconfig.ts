/** Credentials for the fake: a kubeconfig file for kubectl and the options object of @kubernetes/client-node. */

export function clientOptionsFor(url: string, caData: string | undefined, token: string, namespace?: string) {
  return {
    clusters: [{ name: 'fake', server: url, skipTLSVerify: false, ...(caData ? { caData } : {}) }],
    users: [{ name: 'fake-user', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', ...(namespace ? { namespace } : {}) }],
    currentContext: 'fake',
  };
}

export function kubeconfigFor(url: string, caData: string | undefined, token: string, namespace?: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: fake\n  cluster:\n    server: ${url}${caData ? `\n    certificate-authority-data: ${caData}` : ''}`,
    'users:',
    `- name: fake-user\n  user:\n    token: ${token}`,
    'contexts:',
    `- name: fake\n  context:\n    cluster: fake\n    user: fake-user${namespace ? `\n    namespace: ${namespace}` : ''}`,
    'current-context: fake',
    '',
  ].join('\n');
}
