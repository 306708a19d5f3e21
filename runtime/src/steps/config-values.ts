/** Small readers for step config values, throwing messages that name the step and key. */
export function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map((v) => String(v));
  if (typeof value === 'string' && value) return [value];
  return [];
}

export function requireString(config: Record<string, unknown>, keys: readonly string[], where: string): string {
  for (const k of keys) if (typeof config[k] === 'string' && config[k]) return config[k] as string;
  throw new Error(`${where}: config.${keys[0]} is required`);
}

export function optionalString(config: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) if (typeof config[k] === 'string' && config[k] !== '') return config[k] as string;
  return undefined;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
