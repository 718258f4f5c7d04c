import { memo } from 'preact/compat';
import { useMemo } from 'preact/hooks';
import { dateTime, duration, span } from '../lib/format.ts';
import { stateClass } from '../lib/states.ts';
import type { Grid, GridCell } from '../lib/types.ts';

interface Props { grid: Grid; selected: { run: string | null; task: string | null }; onSelect: (runId: string, taskId: string | null) => void }

/**
 * Runs × tasks. Each cell is one plain element with a state class; clicks are handled
 * once on the container, so 200 tasks × 25 runs stays a light DOM.
 */
export function GridView({ grid, selected, onSelect }: Props) {
  const maxDur = useMemo(() => Math.max(1, ...grid.runs.map((r) => span(r.startDate, r.endDate) ?? 0)), [grid.runs]);
  const click = (e: MouseEvent) => {
    const el = (e.target as Element).closest?.('[data-run]');
    if (el) onSelect(el.getAttribute('data-run')!, el.getAttribute('data-task'));
  };
  const cols = grid.runs.length;
  return (
    <div class="card grid-wrap" onClick={click}>
      <div class="grid" style={{ gridTemplateColumns: `minmax(180px, 280px) repeat(${cols}, 20px)` }}>
        <div class="grid-corner small muted">{grid.tasks.length} tasks · {cols} runs</div>
        {grid.runs.map((r) => {
          const d = span(r.startDate, r.endDate) ?? 0;
          return (
            <div key={r.runId} class={`grid-run ${r.runId === selected.run ? 'sel' : ''}`} data-run={r.runId}
              title={`${r.runId}\n${r.state} · ${dateTime(r.startDate)}${d ? ` · ${duration(d)}` : ''}`}>
              <span class={`grid-bar ${stateClass(r.state)}`} style={{ height: `${Math.max(6, (d / maxDur) * 64)}px` }} />
            </div>
          );
        })}
        {grid.tasks.map((t) => <Row key={t} taskId={t} runs={grid.runs} cells={grid.cells} selRun={selected.task === t ? selected.run : null} />)}
      </div>
    </div>
  );
}

// A row re-renders only when the cells object changes (an event touched some run).
const Row = memo(function Row({ taskId, runs, cells, selRun }: { taskId: string; runs: Grid['runs']; cells: Grid['cells']; selRun: string | null }) {
  return (
    <>
      <div class={`grid-task mono ${selRun ? 'sel' : ''}`} data-task={taskId} data-run={selRun ?? runs[runs.length - 1]?.runId ?? ''} title={taskId}>{taskId}</div>
      {runs.map((r) => {
        const c: GridCell | undefined = cells[r.runId]?.[taskId];
        return <div key={r.runId} class={`cell ${stateClass(c?.state)} ${selRun === r.runId ? 'sel' : ''}`} data-run={r.runId} data-task={taskId}
          title={`${taskId}\n${c?.state ?? 'no status'}${c?.tryNumber && c.tryNumber > 1 ? ` · try ${c.tryNumber}` : ''}${c?.startDate ? `\n${duration(span(c.startDate, c.endDate))}` : ''}`} />;
      })}
    </>
  );
});
