/**
 * One statement of an interactive session, with Livy's states and JSON. Livy has no `error`
 * state (the docs are wrong): failed code ends `available` with an `error` output.
 */
import type { Output } from './format.ts';

export type StatementState = 'waiting' | 'running' | 'available' | 'cancelling' | 'cancelled';

/** The statement JSON of `GET /sessions/{id}/statements/{sid}`. */
export interface StatementJson {
  id: number;
  code: string;
  state: StatementState;
  output: Output | null;
  progress: number;
  started: number;
  completed: number;
}

/** A statement's state, output and timing, as Livy reports them. */
export class Statement {
  state: StatementState = 'waiting';
  output: Output | null = null;
  /** Epoch ms; 0 while unset, as Livy sends. */
  started = 0;
  completed = 0;
  /** Reads the running query's progress; set while the statement runs. */
  progressSource: (() => number | undefined) | undefined;
  private lastProgress = 0;
  /** Long polls waiting for this statement's state to change. */
  private readonly watchers = new Set<() => void>();

  constructor(
    readonly id: number,
    readonly code: string,
  ) {}

  /** Whether the statement will not change any more. */
  get finished(): boolean {
    return this.state === 'available' || this.state === 'cancelled';
  }

  /** 0..1 while running (from DuckDB's query progress, never going back), 1.0 once finished. */
  progress(): number {
    if (this.finished) return 1;
    if (this.state === 'waiting') return 0;
    const now = this.progressSource?.();
    // Keep below 1 while running: 1.0 means done to a Livy client.
    if (now !== undefined) this.lastProgress = Math.max(this.lastProgress, Math.min(0.99, now));
    return this.lastProgress;
  }

  /** Resolve once the state changes, or after `ms` (an orch client's long poll). */
  nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.watchers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.watchers.add(done);
    });
  }

  /** Mark running. */
  begin(progressSource: () => number | undefined): void {
    this.state = 'running';
    this.started = Date.now();
    this.progressSource = progressSource;
    this.changed();
  }

  /** A cancel reached it while it ran: the query is being interrupted. */
  cancelling(): void {
    this.state = 'cancelling';
    this.changed();
  }

  /** Cancelled before it ran. */
  cancelWaiting(): void {
    this.state = 'cancelled';
    this.completed = Date.now();
    this.changed();
  }

  /** Finish with an output; a statement being cancelled ends `cancelled` whatever the query did. */
  finish(output: Output | null): void {
    this.progressSource = undefined;
    this.completed = Date.now();
    if (this.state === 'cancelling' || this.state === 'cancelled') this.state = 'cancelled';
    else {
      this.state = 'available';
      this.output = output;
    }
    this.changed();
  }

  private changed(): void {
    for (const wake of [...this.watchers]) wake();
  }

  /** Livy's statement JSON. */
  toJSON(): StatementJson {
    return {
      id: this.id,
      code: this.code,
      state: this.state,
      output: this.output,
      progress: this.progress(),
      started: this.started,
      completed: this.completed,
    };
  }
}
