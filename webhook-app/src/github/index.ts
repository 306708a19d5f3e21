/** The GitHub App as a unit of the control plane (see ../units.ts): its settings, factory and pure pieces. */
export { createGitHubApp, type GitHubApp, type GitHubAppOptions } from './create-github-app.js';
export { githubUnit } from './unit.js';
export { githubSettings, githubConfigured, resolveGitHubCredentials, type GitHubSettings, type GitHubAppCredentials } from './settings.js';
export type { SourcePort } from './types.js';
export type { ThrottleOptions } from './github-client.js';
export { decidePreview, type PreviewDecision, type PreviewFacts } from './preview-policy.js';
export { decidePullRequest, type PullRequestDecision, type CommitFacts, type PullRequestFacts } from './pull-request/decide-pull-request.js';
export { renderPullRequest, type RenderedPullRequest } from './pull-request/render-pull-request.js';
export { parseCommand, type Command } from './handlers/parse-command.js';
export { renderComment } from './render/render-comment.js';
export { renderValidateCheck } from './render/render-validate-check.js';
export { renderPlanCheck } from './render/render-plan-check.js';
export { githubEnvironmentName } from './outbox/send-deployment-status.js';
