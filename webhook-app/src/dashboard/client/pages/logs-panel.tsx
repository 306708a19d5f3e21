/** The runtime's output: the last lines, then new ones as they come (follow), filtered by a search. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { streamLines } from '../api.js';
import { ErrorPanel } from '../components/error-panel.js';
import { useApp } from '../context.js';
import type { Environment, LogLine } from '../types.js';

const KEEP = 2_000;

export function LogsPanel(props: { environment: Environment }) {
  const { can } = useApp();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const box = useRef<HTMLPreElement>(null);
  const allowed = can('logs:read');

  useEffect(() => {
    if (!allowed) return;
    const abort = new AbortController();
    setError(null);
    setLines([]);
    (async () => {
      try {
        let batch: LogLine[] = [];
        let timer: number | undefined;
        const flush = () => {
          timer = undefined;
          const add = batch;
          batch = [];
          setLines((old) => [...old, ...add].slice(-KEEP));
        };
        for await (const l of streamLines<LogLine>(`/api/v1/environments/${props.environment.id}/logs?lines=200${follow ? '&follow=1' : ''}`, abort.signal)) {
          batch.push(l);
          timer ??= window.setTimeout(flush, 100);
        }
        if (timer !== undefined) window.clearTimeout(timer);
        flush();
      } catch (err) {
        if (!abort.signal.aborted) setError(err);
      }
    })();
    return () => abort.abort();
  }, [props.environment.id, follow, attempt, allowed]);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return needle ? lines.filter((l) => l.line.toLowerCase().includes(needle)) : lines;
  }, [lines, search]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown, follow]);

  return (
    <section aria-labelledby="logs-title" class="panel">
      <h2 id="logs-title">Logs</h2>
      {!allowed ? (
        <p class="muted">Reading logs needs the logs:read permission (deployer and up).</p>
      ) : (
        <>
          <div class="filters">
            <label>
              Search the log
              <input class="input" type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
            </label>
            <label class="check">
              <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow new lines
            </label>
            <span class="muted small" aria-live="polite">
              {shown.length} of {lines.length} lines
            </span>
          </div>
          {error ? <ErrorPanel error={error} retry={() => setAttempt((n) => n + 1)} what="Could not read the log" /> : null}
          {error && lines.length === 0 ? null : (
          <pre class="logs" ref={box} tabIndex={0} role="log" aria-label={`Log of ${props.environment.app}/${props.environment.name}`}>
            {shown.map((l, i) => (
              <span key={i} class={`log-line stream-${l.stream}`}>
                <span class="muted">{l.at.slice(11, 19)} </span>
                {l.line}
                {'\n'}
              </span>
            ))}
          </pre>
          )}
        </>
      )}
    </section>
  );
}
