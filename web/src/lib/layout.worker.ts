/** Lays a DAG out off the page's thread: dagre takes 100–300 ms at 200 tasks. */
import { computeLayout } from './layout-compute.ts';
import type { LayoutInput } from './layout-shape.ts';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<{ id: number; tasks: LayoutInput }>) => void) | null; postMessage(m: unknown): void };
scope.onmessage = (e) => {
  const { id, tasks } = e.data;
  try { scope.postMessage({ id, layout: computeLayout(tasks) }); } catch (err) { scope.postMessage({ id, error: String(err) }); }
};
