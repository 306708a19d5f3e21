export const WHARF_API_GROUP = 'wharf.dev' as const;
export * from './diagnostic.js';
export * from './conditions.js';
export * from './workflow-app.js';
export * from './redact.js';
export * from './settings.js';
