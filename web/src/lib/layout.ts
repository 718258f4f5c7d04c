import { type GraphLayout, type LayoutInput } from './layout-shape.ts';
import type { TaskDef } from './types.ts';

export { NODE_H, NODE_W, type GraphLayout } from './layout-shape.ts';

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

/** The DAG's layout if it was computed already: in memory, or in sessionStorage. */
export function cachedLayout(tasks: TaskDef[]): GraphLayout | undefined {
  const key = structureKey(tasks);
  const hit = cache.get(key) ?? loadStored(key);
  if (hit) remember(key, hit);
  return hit;
}

function remember(key: string, l: GraphLayout): void {
  if (!cache.has(key) && cache.size > 20) cache.clear();
  cache.set(key, l);
}

const pending = new Map<string, Promise<GraphLayout>>();
let worker: Worker | null | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve(l: GraphLayout): void; reject(e: Error): void }>();

/** The page's one layout worker; null where workers fail (then the layout runs here). */
function layoutWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<{ id: number; layout?: GraphLayout; error?: string }>) => {
      const w = waiting.get(e.data.id);
      waiting.delete(e.data.id);
      if (e.data.layout) w?.resolve(e.data.layout); else w?.reject(new Error(e.data.error ?? 'layout failed'));
    };
    worker.onerror = () => {
      worker = null;
      for (const w of waiting.values()) w.reject(new Error('the layout worker failed'));
      waiting.clear();
    };
  } catch { worker = null; }
  return worker;
}

async function compute(tasks: LayoutInput): Promise<GraphLayout> {
  const w = layoutWorker();
  if (w) {
    try {
      return await new Promise<GraphLayout>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, tasks });
      });
    } catch { /* fall through: lay out here */ }
  }
  return (await import('./layout-compute.ts')).computeLayout(tasks);
}

/**
 * Layered left-to-right layout, computed once per DAG shape in a worker (dagre costs 100–300
 * ms at 200 tasks, never on the page's thread): kept in memory and in sessionStorage, so a
 * reload or another tab view reuses it. Call it as soon as the DAG is known (the page does,
 * whatever tab is open): the Graph tab then only draws.
 */
export function requestLayout(tasks: TaskDef[]): Promise<GraphLayout> {
  const key = structureKey(tasks);
  const hit = cachedLayout(tasks);
  if (hit) return Promise.resolve(hit);
  let p = pending.get(key);
  if (!p) {
    p = compute(tasks.map((t) => ({ taskId: t.taskId, upstream: t.upstream })))
      .then((l) => { remember(key, l); store(key, l); return l; })
      .finally(() => pending.delete(key));
    pending.set(key, p);
  }
  return p;
}
