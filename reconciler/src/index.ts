/** @wharf/reconciler: the reconcile loop, its steps, and the target registry. */
export { createReconciler, type Reconciler, type ReconcilerOptions, type Clock } from './reconciler.js';
export { ReconcileError, StalledError, WaitingError, UnknownStateError, GenericError, classifyError, ERROR_KINDS, type ErrorKind, type ClassifiedError } from './errors.js';
export { createReconcilerMetrics, type ReconcilerMetrics } from './metrics.js';
export {
  TARGET_FACTORIES,
  createTargetRegistry,
  type TargetRegistry,
  type TargetResolver,
  type TargetsConfig,
  type TargetFactories,
  type ResolvedTarget,
} from './targets/registry.js';
export { existingTarget, type TargetFactory, type TargetDeps } from './targets/target-factory.js';
export type { LocalTarget, LocalTargetSettings } from './targets/local/index.js';
export { deletionHash, documentHash, workflowAppOf, type AgentTarget, type AgentTargetSettings } from './targets/agent/index.js';
export { createKubernetesTarget, type KubernetesTarget, type KubernetesTargetSettings } from './targets/kubernetes/index.js';
// The in-cluster operator (reconciler --operator, wharf operator).
export { createOperator, type Operator, type OperatorOptions } from './operator/operator.js';
export { startOperatorDeployable, childrenConfigFrom, type RunningOperator } from './operator/deployable.js';
export { operatorSettings, DEFAULT_RUNTIME_IMAGE, type OperatorSettings } from './operator/settings.js';
export { buildOperatorBundle, OPERATOR_BUNDLE } from './operator/bundle.js';
export { desiredChildren, EXPECT_DIGEST_HEADER, type ChildrenConfig, type DesiredChildren } from './operator/children/desired-children.js';
export { connectCluster, type ClusterConnection } from './kubernetes/cluster-connection.js';
export { FIELD_MANAGERS, LABELS, ANNOTATIONS } from './kubernetes/labels.js';
export { workflowAppName, tenantNamespace } from './kubernetes/names.js';
export { KINDS } from './kubernetes/resources.js';
export { logSocketPath } from './targets/local/log-socket.js';
export { friendlyLabel } from './targets/local/host-label.js';
// The reconcile steps on an EnvironmentSnapshot, for any loop: the Postgres-backed one above, or an operator's.
export { reconcileEnvironment, STEPS, type ReconcileDeps, type RolloutStartRequest } from './reconcile/reconcile-environment.js';
export { summarizeOutcome, summarizeStart, deploymentMessage, type SummarizeOptions } from './reconcile/summarize-status.js';
export { applyStatusUpdate } from './reconcile/apply-status.js';
export { RESULT_LABELS, type ReconcileResult, type ResultKind } from './reconcile/result.js';
export { localTargetSettings, kubernetesTargetSettings, reconcilerSettings, targetsFromSettings, type ReconcilerSettings, type TargetStoreDeps } from './settings.js';
export { startHealthServer, type HealthServer } from './health-server.js';
