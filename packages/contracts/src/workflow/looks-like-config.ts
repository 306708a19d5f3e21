/**
 * Whether a YAML text looks like a Workflow app config: a top-level `modules:`, `workflows:`,
 * `pipelines:` or `triggers:` key. Used to tell app configs from the other YAML in a directory (CI
 * workflows, Kubernetes manifests, compose files) without parsing; broken configs still qualify.
 */
export const WORKFLOW_TOP_LEVEL_KEYS = ['modules', 'workflows', 'pipelines', 'triggers'] as const;

const TOP_LEVEL = new RegExp(`^(?:${WORKFLOW_TOP_LEVEL_KEYS.join('|')})\\s*:`, 'm');

export const looksLikeWorkflowConfig = (text: string): boolean => TOP_LEVEL.test(text);
