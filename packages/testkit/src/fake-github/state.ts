/** What the fake GitHub remembers: the parts of a repository and pull request a user sees. */

export interface FakeAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: string;
  message: string;
  title?: string;
  start_column?: number;
  end_column?: number;
}

export interface FakeCheckRun {
  id: number;
  repo: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  details_url?: string;
  external_id?: string;
  output: { title: string | null; summary: string | null; text: string | null; annotations: FakeAnnotation[] };
  actions: { label: string; description: string; identifier: string }[];
  /** Number of create/update requests that carried annotations. */
  annotationRequests: number;
}

export interface FakeDeploymentStatus {
  id: number;
  state: string;
  environment_url?: string;
  log_url?: string;
  description?: string;
  environment?: string;
  auto_inactive?: boolean;
}

export interface FakeDeployment {
  id: number;
  repo: string;
  ref: string;
  sha: string;
  environment: string;
  description: string | null;
  auto_merge: boolean | undefined;
  required_contexts: string[] | undefined;
  transient_environment: boolean;
  production_environment: boolean;
  payload: unknown;
  statuses: FakeDeploymentStatus[];
}

export interface FakeComment {
  id: number;
  repo: string;
  issue: number;
  body: string;
  /** Login of the author; an App's comments are by `<slug>[bot]`. */
  user: string;
  reactions: string[];
  edits: number;
  /** The id of the App the comment was written through (its installation token), if any. */
  viaApp?: number;
}

export interface FakeCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
}

export interface FakePull {
  number: number;
  repo: string;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
}

export interface FakeInstallation {
  id: number;
  account: string;
  /** Full names; empty means every repository. */
  repositories: string[];
}

export class FakeGitHubState {
  private nextId = 1000;
  installations = new Map<number, FakeInstallation>();
  tokens = new Map<string, { installationId: number; expiresAt: number }>();
  checkRuns: FakeCheckRun[] = [];
  deployments: FakeDeployment[] = [];
  comments: FakeComment[] = [];
  /** `${repo}#${user}` → permission (admin, maintain, write, triage, read, none). */
  permissions = new Map<string, string>();
  commits = new Map<string, FakeCommit>();
  refs = new Map<string, string>();
  pulls: FakePull[] = [];
  /** Credentials handed out by the app-manifest flow: code → app. */
  manifestConversions = new Map<string, Record<string, unknown>>();

  id(): number {
    this.nextId += 1;
    return this.nextId;
  }

  addInstallation(inst: FakeInstallation): void {
    this.installations.set(inst.id, inst);
  }

  setPermission(repo: string, user: string, permission: string): void {
    this.permissions.set(`${repo}#${user.toLowerCase()}`, permission);
  }

  addCommit(repo: string, commit: FakeCommit): void {
    this.commits.set(`${repo}@${commit.sha}`, commit);
  }

  // ---- what a user sees -----------------------------------------------------------------------------------------

  checkRunsFor(repo: string, sha: string, name?: string): FakeCheckRun[] {
    return this.checkRuns.filter((c) => c.repo === repo && c.head_sha === sha && (name === undefined || c.name === name));
  }

  /** The run GitHub shows for a check name on a commit: the newest. */
  latestCheckRun(repo: string, sha: string, name: string): FakeCheckRun | undefined {
    return this.checkRunsFor(repo, sha, name).at(-1);
  }

  commentsOn(repo: string, issue: number): FakeComment[] {
    return this.comments.filter((c) => c.repo === repo && c.issue === issue);
  }

  deploymentsFor(repo: string, environment?: string): FakeDeployment[] {
    return this.deployments.filter((d) => d.repo === repo && (environment === undefined || d.environment === environment));
  }
}
