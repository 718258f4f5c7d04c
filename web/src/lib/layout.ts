import { Graph, layout } from '@dagrejs/dagre';
import type { TaskDef } from './types.ts';

export const NODE_W = 216;
export const NODE_H = 52;

export interface GraphLayout {
  width: number; height: number;
  nodes: Map<string, { x: number; y: number }>;
  edges: { from: string; to: string; d: string }[];
}

/** A string that changes only when the DAG's shape does: the layout cache key. */
export function structureKey(tasks: TaskDef[]): string {
  return tasks.map((t) => `${t.taskId}<${t.upstream.join(',')}`).join('|');
}

const cache = new Map<string, GraphLayout>();
const STORE_PREFIX = 'orch.layout.';

/** FNV-1a of the structure key: a short sessionStorage key (the full key is checked on read). */
function hashKey(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36) + key.length.toString(36);
}

interface Stored { key: string; width: number; height: number; nodes: [string, number, number][]; edges: [string, string, string][] }

function loadStored(key: string): GraphLayout | undefined {
  try {
    const raw = sessionStorage.getItem(STORE_PREFIX + hashKey(key));
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Stored;
    if (s.key !== key) return undefined;
    return { width: s.width, height: s.height, nodes: new Map(s.nodes.map(([id, x, y]) => [id, { x, y }])), edges: s.edges.map(([from, to, d]) => ({ from, to, d })) };
  } catch { return undefined; }
}

function store(key: string, l: GraphLayout): void {
  const s: Stored = { key, width: l.width, height: l.height, nodes: [...l.nodes].map(([id, p]) => [id, p.x, p.y]), edges: l.edges.map((e) => [e.from, e.to, e.d]) };
  try { sessionStorage.setItem(STORE_PREFIX + hashKey(key), JSON.stringify(s)); } catch { /* full or unavailable: memory only */ }
}

/**
 * Layered left-to-right layout, computed once per DAG shape (dagre costs 100–300 ms at 200
 * tasks): kept in memory and in sessionStorage, so a reload or another tab view reuses it.
 */
export function layoutDag(tasks: TaskDef[]): GraphLayout {
  const key = structureKey(tasks);
  let hit = cache.get(key) ?? loadStored(key);
  if (!hit) {
    hit = compute(tasks);
    store(key, hit);
  }
  if (cache.size > 20) cache.clear();
  cache.set(key, hit);
  return hit;
}

/**
 * Lay the DAG out ahead of the Graph tab, when the browser is idle (call it once the view on
 * screen has drawn), so the tab click only draws.
 */
export function prefetchLayout(tasks: TaskDef[]): () => void {
  if (cache.has(structureKey(tasks))) return () => {};
  const run = () => { layoutDag(tasks); };
  if (typeof requestIdleCallback === 'function') {
    const id = requestIdleCallback(run, { timeout: 2000 });
    return () => cancelIdleCallback(id);
  }
  const t = setTimeout(run, 50);
  return () => clearTimeout(t);
}

function compute(tasks: TaskDef[]): GraphLayout {
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
