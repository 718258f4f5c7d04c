/**
 * The scheduler process: owns runs through leases, drives each with a RunDriver, adopts
 * runs whose owner died, creates runs from cron schedules and starts queued ones. Used
 * by `orch run` (one run in the foreground) and `orch scheduler` (everything, until SIGTERM).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { RunOwnedElsewhereError, UnknownDagError } from '../errors.ts';
import { pidAlive } from '../util/process.ts';
import type { DagRunRow, Owner, Store, TriggerSource } from '../store/index.ts';
import { isoAfter, systemClock, type Clock } from './clock.ts';
import type { DagDefinition } from './dags/definition.ts';
import type { DagBag } from './dags/loader.ts';
import { OrchEvents } from './events.ts';
import { silentLogger, type Logger } from './logging.ts';
import type { OperatorRegistry } from './operator.ts';
import { RunDriver } from './run-driver.ts';
import { createSlotPool, type SlotPool } from './slots.ts';
import { createScheduledRuns } from './run-creator.ts';
import { createRun } from './runs/create-run.ts';

export interface SchedulerOptions {
  store: Store;
  dagBag: DagBag;
  registry?: OperatorRegistry;
  clock?: Clock;
  logger?: Logger;
  /** Tries running at once in this process, across all DAGs. Default 32. */
  parallelism?: number;
  /** How often leases are renewed and other processes' changes picked up. Default 2 s. */
  heartbeatMs?: number;
  /** How long a lease lasts without renewal. Default 30 s. */
  leaseMs?: number;
  /** How long an aborted task gets to stop before it is given up on. Default 10 s. */
  abortGraceMs?: number;
  /** `orch scheduler`: how often it looks for due, queued and orphaned runs. Default 1 s. */
  tickMs?: number;
  /** `orch scheduler`: how often it re-reads the DAGs folder. Default 5 s. */
  dagRefreshMs?: number;
  /** `orch scheduler`: work to do now and then, e.g. reaping clusters of finished runs. */
  housekeeping?: () => Promise<unknown>;
  /** How often housekeeping runs. Default 30 s. */
  housekeepingMs?: number;
}

export interface RunResult {
  run: DagRunRow;
  state: 'success' | 'failed' | 'running';
  /** True when an existing run was adopted instead of a new one created. */
  adopted: boolean;
}

export class Scheduler {
  readonly events = new OrchEvents();
  readonly owner: Owner;
  private readonly store: Store;
  private readonly dagBag: DagBag;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly drivers = new Map<string, RunDriver>();
  private readonly slots: SlotPool;
  private readonly opts: Required<Omit<SchedulerOptions, 'store' | 'dagBag' | 'clock' | 'logger' | 'registry' | 'housekeeping'>>;
  private readonly housekeeping: (() => Promise<unknown>) | undefined;
  private readonly registry: OperatorRegistry;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private kickPending = false;
  private stopping = false;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.dagBag = options.dagBag;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.registry = options.registry ?? new Map();
    this.opts = {
      parallelism: options.parallelism ?? 32,
      heartbeatMs: options.heartbeatMs ?? 2_000,
      leaseMs: options.leaseMs ?? 30_000,
      abortGraceMs: options.abortGraceMs ?? 10_000,
      tickMs: options.tickMs ?? 1_000,
      dagRefreshMs: options.dagRefreshMs ?? 5_000,
      housekeepingMs: options.housekeepingMs ?? 30_000,
    };
    this.housekeeping = options.housekeeping;
    this.owner = { id: randomUUID(), host: hostname(), pid: process.pid };
    this.slots = createSlotPool(this.opts.parallelism);
  }

  /**
   * `orch run`: finish an unfinished run of `dagId` whose owner died, or else create one;
   * drive it to the end in this process.
   */
  async runDag(dagId: string, options: { conf?: Record<string, unknown>; triggeredBy?: TriggerSource } = {}): Promise<RunResult> {
    const dag = this.requireDag(dagId);
    // "The same command again" resumes: a different --conf asks for a different run.
    const orphans = this.store.runs.runningElsewhere(this.owner.id, dagId).filter((r) => this.ownerGone(r));
    const orphan = orphans.find((r) => options.conf === undefined || sameJson(r.conf, options.conf));
    for (const other of orphans.filter((r) => r !== orphan)) {
      // Left for `orch scheduler` (or `orch run` with its conf), but its dead tries must not hold slots meanwhile.
      this.store.tis.expireLeases(other.dagId, other.runId, this.clock.now().toISOString());
      this.logger.warn({ dag: dagId, run: other.runId }, `run ${other.runId} of ${dagId} was interrupted with another conf; it is left for \`orch scheduler\` or \`orch run ${dagId}\` with that conf`);
    }
    let driver = orphan && this.start(orphan, dag);
    if (orphan && !driver) {
      throw new RunOwnedElsewhereError(dagId, orphan.runId);
    }
    const adopted = driver !== undefined;
    if (!driver) {
      const run = createRun(this.store, dag, { conf: options.conf, triggeredBy: options.triggeredBy ?? 'cli', runType: 'manual', now: this.clock.now() });
      driver = this.start(run, dag);
      if (!driver) throw new Error(`run ${run.runId} was taken by another process before it could start`);
    }
    this.startHeartbeat();
    try {
      const state = await driver.done;
      return { run: this.store.runs.get(dagId, driver.runId)!, state: state === 'queued' ? 'running' : state, adopted };
    } finally {
      this.stopHeartbeat();
    }
  }

  /** `orch scheduler`: work until `signal` aborts, then drain. */
  async serve(signal: AbortSignal): Promise<void> {
    this.startHeartbeat();
    let lastRefresh = 0;
    let lastHousekeeping = 0;
    while (!signal.aborted) {
      try {
        if (this.housekeeping && Date.now() - lastHousekeeping >= this.opts.housekeepingMs) {
          lastHousekeeping = Date.now();
          await this.housekeeping();
        }
        if (Date.now() - lastRefresh >= this.opts.dagRefreshMs) {
          await this.dagBag.refresh();
          this.recordDags();
          lastRefresh = Date.now();
        }
        this.tick();
      } catch (err) {
        this.logger.error({ err }, 'scheduler loop failed; retrying');
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => (clearTimeout(t), resolve());
        // Removed again each tick: a listener per tick would pile up on the one signal.
        const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), this.opts.tickMs);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    await this.drain();
  }

  /** One pass of the scheduler loop: cron runs, queued runs, orphaned runs. */
  tick(): void {
    if (this.stopping) return;
    const now = this.clock.now();
    const dags = this.dagBag.list();
    createScheduledRuns(this.store, dags, now, this.logger);
    for (const run of this.store.runs.queued()) {
      const dag = this.dagBag.get(run.dagId);
      if (!dag || this.store.dags.isPaused(dag.id)) continue;
      // maxActiveRuns is checked inside the claim, so two schedulers cannot both start one too many.
      this.start(run, dag, dag.maxActiveRuns);
    }
    for (const run of this.store.runs.runningElsewhere(this.owner.id)) {
      const dag = this.dagBag.get(run.dagId);
      if (dag && !this.drivers.has(driverKey(run)) && this.ownerGone(run)) this.start(run, dag);
    }
  }

  /** Stop starting tries; let running ones finish within the grace, then interrupt them and release leases. */
  async drain(graceMs = this.opts.abortGraceMs): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.drivers.values()].map((d) => d.drain(graceMs)));
    this.stopHeartbeat();
  }

  /** Cancel a run this process drives (others are cancelled through the store; see run-commands.ts). */
  cancel(dagId: string, runId: string, reason?: string): boolean {
    const d = this.drivers.get(`${dagId}/${runId}`);
    d?.cancel(reason);
    return d !== undefined;
  }

  private requireDag(dagId: string): DagDefinition {
    const dag = this.dagBag.get(dagId);
    if (!dag) throw new UnknownDagError(dagId, this.dagBag.ids());
    return dag;
  }

  private recordDags(): void {
    const now = this.clock.now().toISOString();
    for (const dag of this.dagBag.list()) this.store.dags.upsert(dag.id, dag.file, dag.schedule, now);
  }

  /** Claim a run and start driving it; undefined if another process holds it. */
  private start(run: DagRunRow, dag: DagDefinition, maxRunning?: number): RunDriver | undefined {
    const claimed = this.store.runs.claim(
      run.dagId,
      run.runId,
      this.owner,
      this.clock.now().toISOString(),
      isoAfter(this.clock, this.opts.leaseMs),
      (r) => this.ownerGone(r),
      maxRunning,
    );
    if (!claimed) return undefined;
    const driver = new RunDriver(
      {
        store: this.store,
        owner: this.owner,
        clock: this.clock,
        logger: this.logger,
        events: this.events,
        registry: this.registry,
        slots: this.slots,
        leaseMs: this.opts.leaseMs,
        abortGraceMs: this.opts.abortGraceMs,
        kick: () => this.kick(),
      },
      dag,
      claimed,
    );
    const key = driverKey(run);
    this.drivers.set(key, driver);
    void driver.done.then(() => {
      this.drivers.delete(key);
      this.kick();
    });
    this.logger.info({ dag: run.dagId, run: run.runId }, run.startDate ? 'adopted run' : 'started run');
    this.events.emit('run', { dagId: run.dagId, runId: run.runId, state: 'running', adopted: run.startDate !== null });
    // Tasks added to the DAG since the run was created get their rows (Airflow's verify_integrity).
    this.store.tis.addMissing(run.dagId, run.runId, [...dag.tasks.values()].map((t) => ({ taskId: t.id, maxTries: t.retries + 1, pool: t.pool, operator: t.operatorType })));
    if (run.startDate) driver.recover();
    // A cancel asked for while nobody owned the run is honoured before anything new starts.
    if (claimed.cancelRequested) driver.cancel();
    driver.evaluate();
    return driver;
  }

  /** True when the run's owner can no longer be working on it. */
  private ownerGone(run: DagRunRow): boolean {
    if (!run.ownerId || !run.leaseExpiresAt) return true;
    if (run.leaseExpiresAt <= this.clock.now().toISOString()) return true;
    // Same machine: no need to wait out the lease when the process is visibly gone.
    return run.ownerHost === this.owner.host && run.ownerPid !== null && !pidAlive(run.ownerPid);
  }

  /** Re-evaluate every run soon (once per burst of events): a freed slot may let another run's task start. */
  private kick(): void {
    if (this.kickPending) return;
    this.kickPending = true;
    queueMicrotask(() => {
      this.kickPending = false;
      for (const d of this.drivers.values()) d.evaluate();
    });
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private heartbeat(): void {
    try {
      const owned = this.store.runs.renewLeases(this.owner.id, isoAfter(this.clock, this.opts.leaseMs));
      for (const [key, d] of this.drivers) {
        if (d.isFinished) continue;
        if (owned.has(key)) d.sync();
        else d.abandon();
      }
    } catch (err) {
      this.logger.error({ err }, 'heartbeat failed');
    }
  }
}

/** Equal as JSON values, whatever the key order. */
function sameJson(a: unknown, b: unknown): boolean {
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, canon(x)]))
      : Array.isArray(v)
        ? v.map(canon)
        : v;
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

const driverKey = (r: { dagId: string; runId: string }) => `${r.dagId}/${r.runId}`;
