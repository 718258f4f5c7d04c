import { dateTime, duration, span } from '../lib/format.ts';
import { dagUrl, linkClick } from '../lib/router.ts';
import { stateClass } from '../lib/states.ts';
import type { Run } from '../lib/types.ts';

export function RunsView({ dagId, runs, more }: { dagId: string; runs: Run[] | null; more: (() => void) | null }) {
  if (!runs) return <p class="muted">Loading…</p>;
  if (runs.length === 0) return <div class="card empty">No runs yet.</div>;
  return (
    <div class="card">
      <table class="list runs">
        <thead><tr><th>State</th><th>Run</th><th>Trigger</th><th>Conf</th><th>Start</th><th>Duration</th></tr></thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.runId} data-run={r.runId}>
              <td><span class={`badge ${stateClass(r.state)}`}>{r.state}</span></td>
              <td><a class="mono small" href={dagUrl(dagId, 'graph', { run: r.runId })} onClick={linkClick}>{r.runId}</a></td>
              <td>{r.triggeredBy ?? '—'} <span class="muted small">{r.runType}</span></td>
              <td class="mono small conf">{Object.keys(r.conf ?? {}).length ? JSON.stringify(r.conf) : <span class="muted">—</span>}</td>
              <td class="small">{dateTime(r.startDate ?? r.queuedAt)}</td>
              <td class="mono small">{duration(span(r.startDate, r.endDate)) || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {more && <div style="padding:10px;text-align:center"><button class="btn small" onClick={more}>Older runs</button></div>}
    </div>
  );
}
