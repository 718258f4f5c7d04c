import { api, enc, errorText } from '../lib/api.ts';
import { dateTime, duration, span } from '../lib/format.ts';
import { isFinished, stateClass } from '../lib/states.ts';
import type { RunDetail } from '../lib/types.ts';
import { ConfirmButton } from './ConfirmButton.tsx';
import { useNow } from './useNow.ts';

export function RunHeader({ run, onError }: { run: RunDetail; onError: (e: string) => void }) {
  const done = isFinished(run.state);
  const now = useNow(!done);
  const c = run.cluster;
  // A cluster whose release was not recorded is counted up to the run's end, not forever.
  const up = c ? span(c.createdAt, c.releasedAt ?? (done ? run.endDate : null), now) : null;
  const cancel = async () => {
    try { await api(`/dags/${enc(run.dagId)}/runs/${enc(run.runId)}/cancel`, { method: 'POST', body: {} }); }
    catch (e) { onError(errorText(e)); }
  };
  return (
    <div class="card run-header" data-run={run.runId}>
      <div class="rh-item"><div class="rh-label">Run</div>
        <span class={`badge ${stateClass(run.state)}`} data-run-state={run.state}>{run.state}</span>
        {run.cancelRequested && !done && <span class="muted small"> cancelling…</span>}
      </div>
      <div class="rh-item"><div class="rh-label">Run id</div><span class="mono small">{run.runId}</span></div>
      <div class="rh-item"><div class="rh-label">Triggered</div><span>{run.triggeredBy ?? run.runType}</span></div>
      <div class="rh-item"><div class="rh-label">Started</div><span>{dateTime(run.startDate)}</span></div>
      <div class="rh-item"><div class="rh-label">{done ? 'Duration' : 'Elapsed'}</div><span class="mono" data-elapsed>{duration(span(run.startDate, run.endDate, now)) || '—'}</span></div>
      {c && <div class="rh-item"><div class="rh-label">Backend</div><span>{c.backend}</span></div>}
      {c && (
        <div class="rh-item rh-cluster"><div class="rh-label">Cluster</div>
          <span class="mono small" title={c.clusterId ?? ''}>{c.clusterId ?? '—'}</span>
          {c.url && <div><a class="mono small" href={c.url} target="_blank" rel="noreferrer">{c.url}</a></div>}
        </div>
      )}
      {c && <div class="rh-item"><div class="rh-label">Cluster up</div><span class="mono">{duration(up) || '—'}</span>{c.releasedAt && <span class="muted small"> (released)</span>}</div>}
      <span style="flex:1" />
      {!done && <ConfirmButton label="Cancel run" confirm="Cancel this run?" danger onConfirm={cancel} />}
    </div>
  );
}
