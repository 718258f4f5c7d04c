// Hands the page's one event stream on to the panels that want some of its events.
export type Listener = (kind: string, data: any) => void;

export class Bus {
  private listeners = new Set<Listener>();
  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }
  emit(kind: string, data: unknown): void {
    for (const fn of this.listeners) fn(kind, data);
  }
}
