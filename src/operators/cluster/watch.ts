/**
 * Whether a task's cluster is still there, for the Livy operators: an embedded engine's pid
 * is checked on the spot; a cloud cluster (EMR) is asked of its backend, at task start and,
 * while Livy does not answer, in the background every few seconds — so a cluster lost under
 * a running statement fails the task with the cloud's reason (spot capacity lost, …) within
 * seconds instead of after the whole unanswered window, and tasks that still need it fail
 * at once.
 */
import { OrchError } from '../../errors.ts';
import type { TaskContext } from '../../sdk/index.ts';
import type { ClusterBackend, ClusterInfo } from './backend.ts';
import { ClusterGoneError, clusterFate } from './operators.ts';

/** How often a silent Livy makes orch ask the backend about the cluster again. */
const RECHECK_MS = 5_000;

const LOSS_CODES = new Set(['ORCH_LIVY_SESSION_LOST', 'ORCH_LIVY_UNREACHABLE', 'ORCH_LIVY_TIMEOUT', 'ORCH_LIVY_WORK_GONE', 'ORCH_LIVY_LOOKUP_FAILED', 'ORCH_LIVY_CLEANUP_FAILED']);

export class ClusterWatch {
  private fate: string | undefined;
  private pending: Promise<void> | undefined;
  private askedAt = 0;

  constructor(
    private readonly backend: ClusterBackend,
    readonly info: ClusterInfo,
    private readonly ctx: TaskContext,
    private readonly createTask: string,
  ) {}

  /** What is known to have become of the cluster, without waiting; starts a fresh question to the backend when due. */
  known(): string | undefined {
    const local = clusterFate(this.info);
    if (local) return local;
    if (!this.fate && this.backend.fate && !this.pending && Date.now() - this.askedAt >= RECHECK_MS) {
      this.askedAt = Date.now();
      this.pending = this.ask().finally(() => (this.pending = undefined));
    }
    return this.fate;
  }

  /** Ask now and wait for the answer. */
  async check(): Promise<string | undefined> {
    const local = clusterFate(this.info);
    if (local || this.fate) return local ?? this.fate;
    await this.ask();
    return this.fate;
  }

  /** Fail with ClusterGoneError when the cluster is known to be gone (at task start). */
  async requireUp(): Promise<void> {
    const fate = await this.check();
    if (fate) throw new ClusterGoneError(this.ctx.taskId, this.createTask, this.info.clusterId, fate);
  }

  /**
   * A Livy session or batch was lost (no answer, 404): when the cluster itself is gone, say
   * so with a non-retryable ClusterGoneError, since no retry can succeed; otherwise `err`.
   */
  async explain(err: unknown): Promise<unknown> {
    if (err instanceof ClusterGoneError || !(err instanceof OrchError) || !LOSS_CODES.has(err.code)) return err;
    const fate = await this.check();
    return fate ? new ClusterGoneError(this.ctx.taskId, this.createTask, this.info.clusterId, fate, { cause: err }) : err;
  }

  private async ask(): Promise<void> {
    try {
      this.fate ??= await this.backend.fate?.(this.info, AbortSignal.timeout(30_000));
    } catch (err) {
      // The cloud could not be asked (throttled, no network): Livy's own window still ends the wait.
      this.ctx.log.debug(`could not ask the ${this.backend.name} backend about cluster ${this.info.clusterId}: ${(err as Error).message}`);
    }
  }
}
