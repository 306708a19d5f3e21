/** A failure the user can fix: printed as is, without a stack trace. */
export class StartupError extends Error {
  override name = 'StartupError';
}
