/** What the scheduler announces as it works: the CLI progress display and the UI listen. */
import { EventEmitter } from 'node:events';
import type { RunState, TaskState } from '../store/index.ts';

export interface TaskEvent {
  dagId: string;
  runId: string;
  taskId: string;
  state: TaskState;
  tryNumber: number;
  error?: string;
}

export interface RunEvent {
  dagId: string;
  runId: string;
  state: RunState;
  note?: string;
  /** On 'running': this process took the run over from one that died. */
  adopted?: boolean;
  /** On 'running': the run was being cancelled when this process took it over. */
  cancelling?: boolean;
  /** On 'running': another live process drives this run; this one only follows it. */
  followed?: { ownerPid: number | null; ownerHost: string | null };
}

/** Log lines from this source are progress worth showing live in `orch run` (a cluster starting up). */
export const PROGRESS_SOURCE = 'progress';

export interface LogLineEvent {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  level: string;
  source: string;
  message: string;
}

export interface OrchEventMap {
  task: [TaskEvent];
  run: [RunEvent];
  log: [LogLineEvent];
}

export class OrchEvents extends EventEmitter<OrchEventMap> {
  private held: (() => void)[] | undefined;

  /**
   * Run `fn` (a write transaction) holding events back: they are announced once it returns,
   * and dropped if it throws — what they announced was rolled back.
   */
  atomically<T>(fn: () => T): T {
    if (this.held) return fn();
    const held: (() => void)[] = (this.held = []);
    let result: T;
    try {
      result = fn();
    } finally {
      this.held = undefined;
    }
    for (const announce of held) announce();
    return result;
  }

  override emit<K extends keyof OrchEventMap>(event: K, ...args: OrchEventMap[K]): boolean {
    // The base class's own typing of emit cannot be restated generically; the signature above is the checked one.
    const emit = (super.emit as (e: K, ...a: OrchEventMap[K]) => boolean).bind(this);
    if (!this.held) return emit(event, ...args);
    this.held.push(() => emit(event, ...args));
    return this.listenerCount(event as never) > 0;
  }
}
