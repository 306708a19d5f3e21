/**
 * Asks before anything that changes what runs: a modal <dialog> (focus stays inside, Escape cancels) saying what will
 * happen, with an optional reason that goes to the audit log.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { ErrorPanel } from './error-panel.js';

export interface ConfirmRequest {
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
  /** Ask for a reason (written to the audit log). */
  reason?: boolean;
  run(reason: string): Promise<void>;
}

export function ConfirmDialog(props: { request: ConfirmRequest | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.request && !d.open) {
      setReason('');
      setError(null);
      d.showModal();
    } else if (!props.request && d.open) d.close();
  }, [props.request]);
  const r = props.request;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!r) return;
    setBusy(true);
    setError(null);
    try {
      await r.run(reason.trim());
      props.onClose();
    } catch (err) {
      setError(err instanceof ApiError ? err : err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="confirm-title" onClose={props.onClose}>
      {r ? (
        <form method="dialog" onSubmit={submit}>
          <h2 id="confirm-title">{r.title}</h2>
          <p>{r.body}</p>
          {r.reason ? (
            <p>
              <label for="confirm-reason">Reason (written to the audit log)</label>
              <input id="confirm-reason" class="input" value={reason} maxLength={1000} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
            </p>
          ) : null}
          {error ? <ErrorPanel error={error} /> : null}
          <div class="dialog-actions">
            <button type="button" class="button" onClick={props.onClose} disabled={busy}>
              Cancel
            </button>
            <button type="submit" class={`button ${r.danger ? 'danger' : 'primary'}`} disabled={busy}>
              {busy ? 'Working…' : r.confirmLabel}
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}
