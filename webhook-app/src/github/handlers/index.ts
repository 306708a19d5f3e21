/** Every webhook event the GitHub App handles, listed here and nowhere else. Others are stored and ignored. */
import type { Handler } from '../types.js';
import { onCheckRun, onCheckSuite } from './checks.js';
import { onInstallation, onInstallationRepositories } from './installation.js';
import { onIssueComment } from './issue-comment.js';
import { onPullRequest } from './pull-request.js';
import { onPush } from './push.js';

export const handlers: Record<string, Handler> = {
  installation: onInstallation,
  installation_repositories: onInstallationRepositories,
  push: onPush,
  pull_request: onPullRequest,
  check_suite: onCheckSuite,
  check_run: onCheckRun,
  issue_comment: onIssueComment,
};
