/**
 * The scheduler process: owns runs through leases, drives each with a RunDriver, adopts
 * runs whose owner died, creates runs from cron schedules and starts queued ones. Used
 * by `orch run` (one run in the foreground) and `orch scheduler` (everything, until SIGTERM).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { RunOwnedElsewhereError, UnknownDagError, type DatabaseError } from '../errors.ts';
import type { DagRunRow, Owner, Store, TriggerSource } from '../store/index.ts';
import { isoAfter, systemClock, type Clock } from './clock.ts';
import type { DagDefinition } from './dags/definition.ts';
import type { DagBag } from './dags/loader.ts';
import { databaseFailure } from './database-failure.ts';
import { OrchEvents } from './events.ts';
import { LeaseKeeper } from './leases/keeper.ts';
import { ownerGone } from './leases/owner.ts';
import { silentLogger, type Logger } from './logging.ts';
import type { OperatorRegistry } from './operator.ts';
import { RunDriver } from './run-driver.ts';
import { followRun } from './run-follower.ts';
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
  /** `orch run` following a run another process drives: how often it reads SQLite. Default 250 ms. */
  followPollMs?: number;
}

export interface RunResult {
  run: DagRunRow;
  state: 'success' | 'failed' | 'running';
  /** True when an existing run was adopted instead of a new one created. */
  adopted: boolean;
  /** Set when an identical run was already going in another live process and this one only watched it. */
  followed?: { ownerPid: number | null; ownerHost: string | null };
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
  private readonly keeper: LeaseKeeper | undefined;
  private readonly dbFile: string;
  private kickPending = false;
  private stopping = false;
  /** Set once the database could not be written: nothing more is started or recorded. */
  private storeFailure: DatabaseError | undefined;

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
      followPollMs: options.followPollMs ?? 250,
    };
    this.housekeeping = options.housekeeping;
    this.owner = { id: randomUUID(), host: hostname(), pid: process.pid };
    this.slots = createSlotPool(this.opts.parallelism);
    this.dbFile = this.store.db.name;
    if (this.dbFile !== ':memory:') {
      this.keeper = new LeaseKeeper({
        dbFile: this.dbFile,
        ownerId: this.owner.id,
        leaseMs: this.opts.leaseMs,
        heartbeatMs: this.opts.heartbeatMs,
        onError: (err) => this.fault(err),
      });
    }
  }

  /** Why this scheduler stopped, if the database could not be written. */
  get failure(): DatabaseError | undefined {
    return this.storeFailure;
  }

  /**
   * `orch run`: finish an unfinished run of `dagId` whose owner died, or follow an identical
   * run (same conf) another live process is driving, or else create one; drive it to the end.
   */
  async runDag(dagId: string, options: { conf?: Record<string, unknown>; triggeredBy?: TriggerSource; signal?: AbortSignal } = {}): Promise<RunResult> {
    const dag = this.requireDag(dagId);
    try {
      return await this.runOrFollow(dag, options);
    } catch (err) {
      throw databaseFailure(err, this.dbFile) ?? err;
    } finally {
      this.stopHeartbeat();
    }
  }

  private async runOrFollow(dag: DagDefinition, options: { conf?: Record<string, unknown>; triggeredBy?: TriggerSource; signal?: AbortSignal }): Promise<RunResult> {
    const dagId = dag.id;
    // "The same command again" resumes: a different --conf asks for a different run.
    const orphans = this.store.runs.runningElsewhere(this.owner.id, dagId).filter((r) => this.ownerGone(r));
    const orphan = orphans.find((r) => options.conf === undefined || sameJson(r.conf, options.conf));
    for (const other of orphans.filter((r) => r !== orphan)) {
      // Left for `orch scheduler` (or `orch run` with its conf), but its dead tries must not hold slots meanwhile.
      this.store.tis.expireLeases(other.dagId, other.runId, this.clock.now().toISOString());
      this.logger.warn({ dag: dagId, run: other.runId }, `run ${other.runId} of ${dagId} was interrupted with another conf; it is left for \`orch scheduler\` or \`orch run ${dagId}\` with that conf`);
    }
    this.startHeartbeat();
    let driver = orphan && this.start(orphan, dag);
    if (orphan && !driver) throw new RunOwnedElsewhereError(dagId, orphan.runId);
    const adopted = driver !== undefined;
    if (!driver) {
      // Checked and created in one transaction: two `orch run` started together make one run.
      const conf = options.conf ?? {};
      const decided = this.store.immediate(() => {
        const twin = this.store.runs
          .list({ dagId, states: ['running'] })
          .find((r) => r.ownerId !== this.owner.id && sameJson(r.conf, conf) && !this.ownerGone(r));
        if (twin) return { twin };
        const created = createRun(this.store, dag, { conf: options.conf, triggeredBy: options.triggeredBy ?? 'cli', runType: 'manual', now: this.clock.now() });
        return { claimed: this.claim(created) };
      });
      if (decided.twin) return this.followTwin(decided.twin, dag, options.signal);
      if (!decided.claimed) throw new Error('a run this process just created was claimed by another process');
      driver = this.drive(decided.claimed, dag, true);
    }
    const state = await driver.done;
    if (this.storeFailure) throw this.storeFailure;
    return { run: this.store.runs.get(dagId, driver.runId)!, state: state === 'queued' ? 'running' : state, adopted };
  }

  /** Watch an identical run another process drives; adopt it if that process dies. */
  private async followTwin(twin: DagRunRow, dag: DagDefinition, signal: AbortSignal | undefined): Promise<RunResult> {
    const followed = { ownerPid: twin.ownerPid, ownerHost: twin.ownerHost };
    this.events.emit('run', { dagId: twin.dagId, runId: twin.runId, state: 'running', followed });
    const outcome = await followRun(twin, {
      store: this.store,
      events: this.events,
      pollMs: this.opts.followPollMs,
      signal,
      adoptIfOrphaned: (run) => (this.ownerGone(run) ? this.start(run, dag) : undefined),
    });
    if (outcome.driver) {
      const state = await outcome.driver.done;
      if (this.storeFailure) throw this.storeFailure;
      return { run: this.store.runs.get(twin.dagId, twin.runId)!, state: state === 'queued' ? 'running' : state, adopted: true, followed };
    }
    const { run } = outcome;
    return { run, state: run.state === 'success' || run.state === 'failed' ? run.state : 'running', adopted: false, followed };
  }

  /** `orch scheduler`: work until `signal` aborts, then drain. */
  async serve(signal: AbortSignal): Promise<void> {
    this.startHeartbeat();
    let lastRefresh = 0;
    let lastHousekeeping = 0;
    let housekeeping: Promise<unknown> | undefined;
    while (!signal.aborted && !this.storeFailure) {
      try {
        if (this.housekeeping && !housekeeping && Date.now() - lastHousekeeping >= this.opts.housekeepingMs) {
          lastHousekeeping = Date.now();
          // In the background: reaping waits on processes and remote servers, which must not hold up new runs.
          housekeeping = this.housekeeping()
            .catch((err: unknown) => void this.fault(err))
            .finally(() => (housekeeping = undefined));
        }
        if (Date.now() - lastRefresh >= this.opts.dagRefreshMs) {
          await this.dagBag.refresh();
          this.recordDags();
          lastRefresh = Date.now();
        }
        this.tick();
      } catch (err) {
        if (this.fault(err)) break; // else logged; the next tick tries again
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => (clearTimeout(t), resolve());
        // Removed again each tick: a listener per tick would pile up on the one signal.
        const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), this.opts.tickMs);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    await housekeeping;
    if (this.storeFailure) {
      this.stopHeartbeat();
      throw this.storeFailure;
    }
    await this.drain();
  }

  /** One pass of the scheduler loop: cron runs, queued runs, orphaned runs. */
  tick(): void {
    if (this.stopping || this.storeFailure) return;
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
    const claimed = this.claim(run, maxRunning);
    return claimed && this.drive(claimed, dag, run.startDate === null);
  }

  private claim(run: DagRunRow, maxRunning?: number): DagRunRow | undefined {
    return this.store.runs.claim(
      run.dagId,
      run.runId,
      this.owner,
      this.clock.now().toISOString(),
      isoAfter(this.clock, this.opts.leaseMs),
      (r) => this.ownerGone(r),
      maxRunning,
    );
  }

  /** Drive a run this process has just claimed; `fresh` when it had never started (its preflight checks run first). */
  private drive(claimed: DagRunRow, dag: DagDefinition, fresh: boolean): RunDriver {
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
        fault: (err) => this.fault(err),
      },
      dag,
      claimed,
    );
    const key = driverKey(claimed);
    this.drivers.set(key, driver);
    void driver.done.then(() => {
      this.drivers.delete(key);
      this.kick();
    });
    this.logger.info({ dag: claimed.dagId, run: claimed.runId }, fresh ? 'started run' : 'adopted run');
    this.events.emit('run', { dagId: claimed.dagId, runId: claimed.runId, state: 'running', adopted: !fresh, cancelling: claimed.cancelRequested || undefined });
    // Tasks added to the DAG since the run was created get their rows (Airflow's verify_integrity).
    this.store.tis.addMissing(claimed.dagId, claimed.runId, [...dag.tasks.values()].map((t) => ({ taskId: t.id, maxTries: t.retries + 1, pool: t.pool, operator: t.operatorType })));
    if (!fresh) driver.recover();
    // A cancel asked for while nobody owned the run is honoured before anything new starts.
    if (claimed.cancelRequested) driver.cancel();
    void driver.begin(fresh);
    return driver;
  }

  private ownerGone(run: DagRunRow): boolean {
    return ownerGone(run, this.clock.now(), { leaseMs: this.opts.leaseMs, me: this.owner });
  }

  /**
   * Errors raised where they cannot be handled (a failed write in a timer, a renewal in the
   * lease thread). When the database cannot be written, everything stops: tries are
   * detached or stopped without recording anything, and runDag/serve throw the DatabaseError.
   * True when `err` was such a failure.
   */
  private fault(err: unknown): boolean {
    const failure = databaseFailure(err, this.dbFile);
    if (!failure) {
      this.logger.error({ err }, 'error while driving runs');
      return false;
    }
    if (this.storeFailure) return true;
    // Not logged here: runDag and serve throw it, and the command says it once.
    this.storeFailure = failure;
    this.stopHeartbeat();
    for (const d of this.drivers.values()) d.abandon(`the database cannot be written (${failure.code})`, 'info');
    return true;
  }

  /** Re-evaluate every run soon (once per burst of events): a freed slot may let another run's task start. */
  private kick(): void {
    if (this.kickPending) return;
    this.kickPending = true;
    queueMicrotask(() => {
      this.kickPending = false;
      try {
        for (const d of this.drivers.values()) d.evaluate();
      } catch (err) {
        this.fault(err);
      }
    });
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer || this.storeFailure) return;
    this.keeper?.start();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs);
  }

  private stopHeartbeat(): void {
    this.keeper?.stop();
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Notice what other processes changed (cancel, mark, clear, a run taken over); leases are renewed by the keeper. */
  private heartbeat(): void {
    this.keeper?.pulse();
    try {
      if (!this.keeper) this.store.runs.renewLeases(this.owner.id, isoAfter(this.clock, this.opts.leaseMs));
      const owned = this.store.runs.ownedBy(this.owner.id);
      for (const [key, d] of this.drivers) {
        if (d.isFinished) continue;
        if (owned.has(key)) d.sync();
        else d.abandon();
      }
    } catch (err) {
      this.fault(err);
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
