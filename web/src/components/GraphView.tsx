import { memo } from 'preact/compat';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { duration, span } from '../lib/format.ts';
import { NODE_H, NODE_W, cachedLayout, requestLayout, type GraphLayout } from '../lib/layout.ts';
import { stateClass } from '../lib/states.ts';
import type { DagDetail, TaskInstance } from '../lib/types.ts';
import { useNow } from './useNow.ts';

interface Props { dag: DagDetail; tasks: Map<string, TaskInstance>; selected: string | null; onSelect: (taskId: string) => void }

export function GraphView({ dag, tasks, selected, onSelect }: Props) {
  // Keyed on the task list, which only changes when the DAG file does: events change
  // colours, never the layout. Usually ready (the page asked for it on opening); else it
  // comes from the layout worker.
  const [lay, setLay] = useState<GraphLayout | null>(() => cachedLayout(dag.tasks) ?? null);
  const [layError, setLayError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const hit = cachedLayout(dag.tasks);
    setLay(hit ?? null);
    if (!hit) requestLayout(dag.tasks).then((l) => { if (live) setLay(l); }, (e: unknown) => { if (live) setLayError(String(e)); });
    return () => { live = false; };
  }, [dag.tasks]);
  // null: fit the graph's width to the card (never above 100%), kept on resize.
  const [manualZoom, setZoom] = useState<number | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const [boxWidth, setBoxWidth] = useState(0);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setBoxWidth(el.clientWidth - 16));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const fit = lay && boxWidth > 0 && lay.width > 0 ? Math.max(0.35, Math.min(1, boxWidth / lay.width)) : 1;
  const zoom = manualZoom ?? fit;
  const running = [...tasks.values()].some((t) => t.state === 'running');
  const now = useNow(running);
  const ops = useMemo(() => new Map(dag.tasks.map((t) => [t.taskId, t.operator])), [dag.tasks]);
  return (
    <div class="card graph-wrap">
      <div class="graph-tools">
        <button class="btn small" onClick={() => setZoom(Math.max(0.2, zoom / 1.25))} aria-label="zoom out">−</button>
        <button class="btn small" onClick={() => setZoom(manualZoom === null ? 1 : null)} title={manualZoom === null ? 'Fitted: click for 100%' : 'Click to fit'}>{Math.round(zoom * 100)}%</button>
        <button class="btn small" onClick={() => setZoom(Math.min(2, zoom * 1.25))} aria-label="zoom in">+</button>
        <span class="muted small">{dag.tasks.length} task{dag.tasks.length === 1 ? '' : 's'}</span>
        <Legend />
      </div>
      <div class="graph-scroll" ref={scroller} onClick={(e) => {
        const id = (e.target as Element).closest?.('[data-task]')?.getAttribute('data-task');
        if (id) onSelect(id);
      }}>
        {!lay && <p class="muted small">{layError ?? `laying out ${dag.tasks.length} tasks…`}</p>}
        {lay && (
          <svg class="graph" width={lay.width * zoom} height={lay.height * zoom} viewBox={`0 0 ${lay.width} ${lay.height}`} role="img" aria-label={`graph of ${dag.dagId}`}>
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M0,0L10,5L0,10z" class="arrowhead" />
              </marker>
            </defs>
            <Edges edges={lay.edges} />
            {dag.tasks.map((t) => {
              const p = lay.nodes.get(t.taskId);
              if (!p) return null;
              const ti = tasks.get(t.taskId);
              return <Node key={t.taskId} id={t.taskId} x={p.x} y={p.y} operator={ops.get(t.taskId) ?? ''} state={ti?.state ?? null}
                dur={ti ? duration(span(ti.startDate, ti.endDate, ti.state === 'running' ? now : undefined)) : ''}
                progress={ti?.state === 'running' ? ti.progress : null} tryNumber={ti?.tryNumber ?? 0} selected={selected === t.taskId} />;
            })}
          </svg>
        )}
      </div>
    </div>
  );
}

// The edges change only with the layout: state events skip them entirely.
const Edges = memo(function Edges({ edges }: { edges: GraphLayout['edges'] }) {
  return <g class="edges">{edges.map((e) => <path key={`${e.from}>${e.to}`} d={e.d} marker-end="url(#arrow)" />)}</g>;
});

interface NodeProps { id: string; x: number; y: number; operator: string; state: string | null; dur: string; progress: number | null; tryNumber: number; selected: boolean }

// Memoized on its few primitive props: an event re-renders only the nodes it touched.
const Node = memo(function Node({ id, x, y, operator, state, dur, progress, tryNumber, selected }: NodeProps) {
  const label = id.length > 25 ? `${id.slice(0, 24)}…` : id;
  return (
    <g class={`node ${stateClass(state)} ${selected ? 'selected' : ''}`} transform={`translate(${x},${y})`} data-task={id} data-state={state ?? 'none'}>
      <title>{`${id}\n${operator}\n${state ?? 'no status'}${dur ? ` · ${dur}` : ''}${tryNumber > 1 ? ` · try ${tryNumber}` : ''}`}</title>
      <rect class="node-box" width={NODE_W} height={NODE_H} rx="6" />
      <rect class="node-stripe" width="5" height={NODE_H} rx="2" />
      <text class="node-id" x="14" y="20">{label}</text>
      <text class="node-sub" x="14" y="38">{operator}</text>
      {state && <text class="node-state" x={NODE_W - 10} y="38" text-anchor="end">{dur}{tryNumber > 1 ? ` · #${tryNumber}` : ''}</text>}
      {progress !== null && (
        <g class="node-progress" data-progress={progress}>
          <rect x="14" y={NODE_H - 8} width={NODE_W - 28} height="4" rx="2" class="track" />
          <rect x="14" y={NODE_H - 8} width={(NODE_W - 28) * Math.max(0, Math.min(1, progress))} height="4" rx="2" class="bar" />
        </g>
      )}
    </g>
  );
});

const LEGEND = ['queued', 'running', 'success', 'failed', 'up_for_retry', 'upstream_failed', 'skipped'];
export function Legend() {
  return (
    <span class="legend">
      {LEGEND.map((s) => <span key={s} class="small muted"><span class={`dot ${stateClass(s)}`} />{s}</span>)}
    </span>
  );
}
