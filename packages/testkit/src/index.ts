/** @wharf/testkit: test and benchmark helpers, strict fakes of third-party services. A devDependency only. */
export { createTestDatabase, serverUrl, databaseUrl, type TestDatabase, type TeardownHost } from './test-database.js';
export { benchDatabase, percentile, median, type BenchDatabase } from './bench-database.js';
export { tempDir, type TeardownOnly } from './temp-dir.js';
export { git, GIT_ENV, openRepo, createRepo, type GitRepo } from './git.js';
export { workflow, workflowReformatted, manifest } from './workflow-fixtures.js';
export { silentLog, capturingLog, type CapturedLine } from './log.js';
export { waitFor, sleep, pidAlive } from './wait.js';
export { seedRepository, type SeededRepository } from './seed.js';
export { createMemoryTarget, type MemoryTarget, type MemoryTargetOptions, type MemoryFault } from './memory-target.js';
export { REPO_ROOT, WHARF_BIN, TSX_LOADER, startWharf, startTsProcess, type RunningProcess } from './processes.js';
export { startGitHttpServer, type GitHttpServer, type GitHttpServerOptions } from './git-http-server.js';
export { tinyRuntimeCommand, TINY_RUNTIME_BIN } from './tiny-runtime.js';
export {
  startFakeGitHub,
  type FakeGitHub,
  type FakeGitHubOptions,
  type Fault,
  type FaultRule,
  type RecordedRequest,
} from './fake-github/fake-github.js';
export { loadOpenApiIndex, type OpenApiIndex, type MatchedOperation } from './fake-github/openapi-index.js';
export { startFakeGitHubOAuth, type FakeGitHubOAuth, type FakeOAuthUser } from './fake-github-oauth.js';
export {
  FakeGitHubState,
  type FakeAnnotation,
  type FakeCheckRun,
  type FakeDeploymentStatus,
  type FakeDeployment,
  type FakeComment,
  type FakeCommit,
  type FakePull,
  type FakeInstallation,
} from './fake-github/state.js';
export {
  examplePayload,
  signPayload,
  signedDelivery,
  pullRequestPayload,
  pushPayload,
  issueCommentPayload,
  checkRunPayload,
  checkSuitePayload,
  installationPayload,
  installationRepositoriesPayload,
  repositoryId,
  type WebhookPayload,
  type SignedDelivery,
  type RepoRef,
  type PullRequestInput,
  type PushInput,
} from './fake-github/webhooks.js';
export { publishPullHead } from './git-pull-refs.js';
export * from './fake-kubernetes/index.js';
export * from './fake-proxmox/index.js';
export * from './fake-stripe/index.js';
export { failingQuery } from './failing-query.js';
