import { useMemo } from 'preact/hooks';
import { dateTime, duration, ms, timeOfDay } from '../lib/format.ts';
import { isFinished, stateClass } from '../lib/states.ts';
import type { RunDetail } from '../lib/types.ts';
import { useNow } from './useNow.ts';

const TICKS = 6;

/** One run's tries on a time axis: where the time went, cluster start-up included. */
export function GanttView({ run, order, selected, onSelect }: { run: RunDetail; order: string[]; selected: string | null; onSelect: (t: string) => void }) {
  const now = useNow(!isFinished(run.state));
  const rows = useMemo(() => {
    const pos = new Map(order.map((t, i) => [t, i]));
    return run.tries.filter((t) => t.startDate).slice().sort((a, b) =>
      (ms(a.startDate)! - ms(b.startDate)!) || ((pos.get(a.taskId) ?? 0) - (pos.get(b.taskId) ?? 0)) || a.tryNumber - b.tryNumber);
  }, [run.tries, order]);
  if (rows.length === 0) return <div class="card empty">No task of this run has started yet.</div>;
  const t0 = Math.min(...rows.map((r) => ms(r.startDate)!), ms(run.startDate) ?? Infinity);
  const t1 = Math.max(...rows.map((r) => ms(r.endDate) ?? now), ms(run.endDate) ?? 0, t0 + 1000);
  const total = t1 - t0;
  const pct = (t: number) => `${((t - t0) / total) * 100}%`;
  const ticks = Array.from({ length: TICKS + 1 }, (_, i) => t0 + (total * i) / TICKS);
  return (
    <div class="card gantt">
      <div class="gantt-row gantt-axis">
        <div class="gantt-label small muted">{dateTime(new Date(t0).toISOString())}</div>
        <div class="gantt-track">
          {ticks.map((t, i) => <span key={i} class="tick small muted" style={{ left: pct(t) }}>{i === 0 ? '0s' : `+${duration(t - t0)}`}</span>)}
        </div>
      </div>
      {rows.map((r) => {
        const s = ms(r.startDate)!, e = ms(r.endDate) ?? now;
        return (
          <div key={`${r.taskId}#${r.tryNumber}`} class={`gantt-row ${selected === r.taskId ? 'sel' : ''}`} onClick={() => onSelect(r.taskId)}>
            <div class="gantt-label mono" title={r.taskId}>{r.taskId}{r.tryNumber > 1 && <span class="muted"> #{r.tryNumber}</span>}</div>
            <div class="gantt-track">
              {ticks.map((t, i) => <span key={i} class="gridline" style={{ left: pct(t) }} />)}
              <div class={`gantt-bar ${stateClass(r.state)}`} style={{ left: pct(s), width: `max(3px, ${((e - s) / total) * 100}%)` }}
                title={`${r.taskId} try ${r.tryNumber}\n${r.state}\n${timeOfDay(r.startDate)} → ${r.endDate ? timeOfDay(r.endDate) : 'now'} (${duration(e - s)})`}>
                <span class="gantt-dur small">{duration(e - s)}</span>
              </div>
            </div>
          </div>
        );
      })}
    </div>
  );
}
