export const WHARF_API_GROUP = 'wharf.dev' as const;
