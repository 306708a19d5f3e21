/** NOTIFY channels. `wharf_environments` carries an environment id (or `*`) whenever desired state changes. */
export const ENVIRONMENTS_CHANNEL = 'wharf_environments' as const;
/** `wharf_agents`: `d<agentId>` when an agent's desired documents change, `r<agentId>` when its credentials or revocation do. */
export const AGENTS_CHANNEL = 'wharf_agents' as const;
