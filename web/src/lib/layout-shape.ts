/** What the graph layout is made of, shared by the page (layout.ts) and its worker. */
export const NODE_W = 216;
export const NODE_H = 52;

export interface GraphLayout {
  width: number; height: number;
  nodes: Map<string, { x: number; y: number }>;
  edges: { from: string; to: string; d: string }[];
}

/** The part of the DAG's tasks the layout depends on. */
export type LayoutInput = { taskId: string; upstream: string[] }[];
