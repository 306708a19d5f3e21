/** An error as the page shows it: what happened, what to do, the request id, and a way to try again. */
import { ApiError, advice } from '../api.js';

export function ErrorPanel(props: { error: unknown; retry?: () => void; what?: string }) {
  const err = props.error instanceof ApiError ? props.error : new ApiError(0, 'unexpected', 'Something went wrong', String((props.error as Error)?.message ?? props.error), null);
  return (
    <div class="error-panel" role="alert">
      <p class="error-title">
        <strong>{props.what ? `${props.what}: ` : ''}{err.title}</strong>
        {err.detail ? <span> — {err.detail}</span> : null}
      </p>
      <p>{advice(err)}</p>
      {err.requestId ? <p class="muted small">Request id: <code>{err.requestId}</code></p> : null}
      {props.retry ? (
        <button type="button" class="button" onClick={props.retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
