/**
 * The live view of `orch run`: on a terminal, a block redrawn in place (one line per task,
 * counts, elapsed); otherwise one plain line per state change, for logs and CI.
 */
import { PROGRESS_SOURCE, type OrchEvents, type TaskEvent } from '../core/events.ts';
import type { TaskState } from '../store/index.ts';
import { duration } from './format.ts';

const SYMBOL: Record<TaskState, string> = {
  none: '·',
  scheduled: '◦',
  queued: '◦',
  running: '▶',
  success: '✓',
  failed: '✗',
  up_for_retry: '↻',
  upstream_failed: '⊘',
  skipped: '−',
};
const COLOR: Partial<Record<TaskState, string>> = {
  running: '\x1b[36m',
  success: '\x1b[32m',
  failed: '\x1b[31m',
  up_for_retry: '\x1b[33m',
  upstream_failed: '\x1b[33m',
  skipped: '\x1b[90m',
};

interface Row {
  state: TaskState;
  tryNumber: number;
  startedAt?: number;
  endedAt?: number;
  /** The latest progress line of a running task (a cluster's state), shown beside it. */
  note?: string;
}


export class ProgressDisplay {
  private readonly rows = new Map<string, Row>();
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private drawnLines = 0;
  private title = '';
  private readonly live: boolean;
  private stopped = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    taskIds: string[],
    private readonly dagId: string,
  ) {
    this.live = out.isTTY === true && !process.env.CI;
    for (const id of taskIds) this.rows.set(id, { state: 'none', tryNumber: 0 });
  }

  /** Follow one run's events until stop(). */
  attach(events: OrchEvents, runId: () => string | undefined): void {
    events.on('task', (e) => {
      if (e.dagId === this.dagId && e.runId === runId()) this.onTask(e);
    });
    events.on('log', (e) => {
      if (e.source === PROGRESS_SOURCE && e.dagId === this.dagId && e.runId === runId()) this.onProgress(e.taskId, e.message);
    });
    if (this.live) this.timer = setInterval(() => this.draw(), 200);
  }

  setTitle(title: string): void {
    this.title = title;
    if (!this.live) this.out.write(`${title}\n`);
  }

  /** Seed states of an adopted run. */
  seed(taskId: string, state: TaskState, tryNumber: number): void {
    const row = this.rows.get(taskId);
    if (row) Object.assign(row, { state, tryNumber });
  }

  /** Draw the final state once; later calls do nothing (the cursor has moved on). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (this.live) this.draw();
  }

  private onTask(e: TaskEvent): void {
    const row = this.rows.get(e.taskId) ?? { state: 'none', tryNumber: 0 };
    row.state = e.state;
    row.tryNumber = e.tryNumber;
    if (e.state !== 'running') row.note = undefined;
    if (e.state === 'running') {
      row.startedAt = Date.now();
      row.endedAt = undefined;
    } else if (row.startedAt && !row.endedAt && e.state !== 'scheduled') row.endedAt = Date.now();
    this.rows.set(e.taskId, row);
    if (this.stopped) return;
    if (this.live) return this.draw();
    const took = row.startedAt && row.endedAt ? ` in ${duration(row.endedAt - row.startedAt)}` : '';
    const tries = e.state === 'running' || e.state === 'up_for_retry' ? ` (try ${e.tryNumber})` : '';
    const error = e.error ? `: ${e.error}` : '';
    if (e.state !== 'scheduled') this.out.write(`[${duration(Date.now() - this.started).padStart(6)}] ${e.taskId} ${e.state}${tries}${took}${error}\n`);
  }

  private onProgress(taskId: string, message: string): void {
    const row = this.rows.get(taskId);
    if (!row || this.stopped) return;
    row.note = message;
    if (!this.live) this.out.write(`[${duration(Date.now() - this.started).padStart(6)}] ${taskId}: ${message}\n`);
  }

  private counts(): string {
    const c = new Map<string, number>();
    for (const r of this.rows.values()) {
      const k = r.state === 'none' || r.state === 'scheduled' || r.state === 'queued' ? 'waiting' : r.state;
      c.set(k, (c.get(k) ?? 0) + 1);
    }
    return [...c].map(([k, n]) => `${n} ${k}`).join(' · ');
  }

  private draw(): void {
    const width = Math.max(...[...this.rows.keys()].map((k) => k.length));
    const now = Date.now();
    const lines = [`${this.title}  ${duration(now - this.started)}`];
    for (const [id, r] of this.rows) {
      const t = r.startedAt ? duration((r.endedAt ?? now) - r.startedAt) : '';
      const tries = r.tryNumber > 1 ? ` try ${r.tryNumber}` : '';
      const note = r.note ? `  ${r.note.slice(0, Math.max(0, (this.out.columns ?? 120) - width - 40))}` : '';
      lines.push(`  ${COLOR[r.state] ?? ''}${SYMBOL[r.state]} ${id.padEnd(width)}  ${r.state.padEnd(15)}\x1b[0m ${t}${tries}${note}`);
    }
    lines.push(`  ${this.counts()}`);
    const up = this.drawnLines ? `\x1b[${this.drawnLines}F` : '';
    this.out.write(`${up}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
    this.drawnLines = lines.length;
  }
}
