import type { CommandIO } from './io.js';

export const operatorHelp = `Usage: wharf operator

Runs the in-cluster Kubernetes operator: watches WorkflowApp resources and makes each one a ConfigMap, a Deployment,
a Service, an Ingress or HTTPRoute and (for apps that keep files) a volume claim, and writes their status. Several
replicas elect a leader through a Lease. Settings are environment variables (WHARF_KUBECONFIG, WHARF_RUNTIME_IMAGE,
WHARF_OPERATOR_*): see docs/kubernetes.md. The same as \`node reconciler/src/main.ts --operator\`.`;

export async function runOperator(argv: string[], io: CommandIO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(`${operatorHelp}\n`);
    return 0;
  }
  if (argv.length) {
    io.stderr(`wharf operator: unknown arguments: ${argv.join(' ')} (settings are environment variables)\n`);
    return 2;
  }
  const { startOperatorDeployable } = await import('@wharf/reconciler');
  let fatal: (reason: string) => void = () => {};
  const lost = new Promise<string>((resolve) => (fatal = resolve));
  const operator = await startOperatorDeployable(io.env, (reason) => fatal(reason));
  io.stdout(`operator running (health ${operator.url})\n`);
  const why = await Promise.race([io.waitForStop(), lost]);
  io.stdout(`${why}: stopping\n`);
  await operator.stop();
  return why.startsWith('SIG') ? 0 : 1;
}
