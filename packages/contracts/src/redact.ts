/**
 * What logs must never show. Used as pino's `redact.paths` by every deployable, and by `redactSecrets` for
 * free text (error messages that embed a connection string, say).
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  '*.*.token',
  'privateKey',
  '*.privateKey',
  'secret',
  '*.secret',
  'webhookSecret',
  '*.webhookSecret',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.headers.authorization',
  'databaseUrl',
  '*.databaseUrl',
  'DATABASE_URL',
  '*.DATABASE_URL',
] as const;

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]+:)([^@/\s]+)(@)/gi;
const PEM_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;
const TOKEN_LIKE = /\b(gh[pousr]_[A-Za-z0-9]{16,}|sk_(live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9]{8,}|wharf_(reg|agent)_[A-Za-z0-9_-]{16,})/g;

/** Replaces passwords in URLs, PEM private keys and well-known token shapes in free text. */
export function redactSecrets(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1[REDACTED]$3')
    .replace(PEM_BLOCK, '[REDACTED PRIVATE KEY]')
    .replace(TOKEN_LIKE, '[REDACTED]');
}
