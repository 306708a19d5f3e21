/**
 * A failure at start-up the user can fix (a setting, a port in use, an unreachable database): every deployable's
 * main prints its message as is, without a stack trace, and exits 1.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
