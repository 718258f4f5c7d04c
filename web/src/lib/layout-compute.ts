/** dagre's layered layout of a DAG: run in a worker (layout.worker.ts), off the page's thread. */
import { Graph, layout } from '@dagrejs/dagre';
import { NODE_H, NODE_W, type GraphLayout, type LayoutInput } from './layout-shape.ts';

export function computeLayout(tasks: LayoutInput): GraphLayout {
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 16, ranksep: 56, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(tasks.map((t) => t.taskId));
  for (const t of tasks) g.setNode(t.taskId, { width: NODE_W, height: NODE_H });
  for (const t of tasks) for (const u of t.upstream) if (ids.has(u)) g.setEdge(u, t.taskId);
  layout(g);
  const nodes = new Map<string, { x: number; y: number }>();
  for (const id of g.nodes()) {
    const n = g.node(id) as { x: number; y: number };
    nodes.set(id, { x: n.x - NODE_W / 2, y: n.y - NODE_H / 2 });
  }
  const edges = g.edges().map((e) => {
    const pts = (g.edge(e) as { points: { x: number; y: number }[] }).points;
    return { from: e.v, to: e.w, d: smoothPath(pts) };
  });
  const gl = g.graph() as { width?: number; height?: number };
  return { width: gl.width ?? 0, height: gl.height ?? 0, nodes, edges };
}

function smoothPath(pts: { x: number; y: number }[]): string {
  if (pts.length === 0) return '';
  const [first, ...rest] = pts;
  let d = `M${first!.x.toFixed(1)},${first!.y.toFixed(1)}`;
  if (rest.length === 1) return `${d}L${rest[0]!.x.toFixed(1)},${rest[0]!.y.toFixed(1)}`;
  // Quadratic segments through the midpoints: dagre's bends, rounded.
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i]!, q = rest[i + 1]!;
    const mx = (p.x + q.x) / 2, my = (p.y + q.y) / 2;
    d += `Q${p.x.toFixed(1)},${p.y.toFixed(1)} ${i === rest.length - 2 ? `${q.x.toFixed(1)},${q.y.toFixed(1)}` : `${mx.toFixed(1)},${my.toFixed(1)}`}`;
  }
  return d;
}
