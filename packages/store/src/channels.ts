/** NOTIFY channels. `wharf_environments` carries an environment id (or `*`) whenever desired state changes. */
export const ENVIRONMENTS_CHANNEL = 'wharf_environments' as const;
