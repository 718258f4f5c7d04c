/**
 * The scheduler process: owns runs through leases, drives each with a RunDriver, adopts
 * runs whose owner died, creates runs from cron schedules and starts queued ones. Used
 * by `orch run` (one run in the foreground) and `orch scheduler` (everything, until SIGTERM).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { RunNotStartedError, UnknownDagError, type DatabaseError } from '../errors.ts';
import { isStoreBusy, type DagRunRow, type Owner, type Store, type TriggerSource } from '../store/index.ts';
import { ActiveCounts } from './active-counts.ts';
import { isoAfter, systemClock, type Clock } from './clock.ts';
import type { DagDefinition } from './dags/definition.ts';
import type { DagBag } from './dags/loader.ts';
import { databaseFailure } from './database-failure.ts';
import { OrchEvents } from './events.ts';
import { sameJson } from '../util/json.ts';
import { processIdentity } from '../util/process.ts';
import { Heartbeat } from './heartbeat.ts';
import { ownerGone } from './leases/owner.ts';
import { silentLogger, type Logger } from './logging.ts';
import type { OperatorRegistry } from './operator.ts';
import { RunDriver } from './run-driver.ts';
import { followRun } from './run-follower.ts';
import { Presence } from './presence.ts';
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
  private readonly counts: ActiveCounts;
  private readonly opts: Required<Omit<SchedulerOptions, 'store' | 'dagBag' | 'clock' | 'logger' | 'registry' | 'housekeeping'>>;
  private readonly registry: OperatorRegistry;
  private readonly beat: Heartbeat;
  private readonly dbFile: string;
  private kickPending = false;
  private stopping = false;
  /** Set while `serve` runs: this scheduler starts triggered runs, and says so on each heartbeat. */
  private presence: Presence | undefined;
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
    this.owner = { id: randomUUID(), host: hostname(), pid: process.pid, identity: processIdentity(process.pid) };
    this.slots = createSlotPool(this.opts.parallelism);
    this.counts = new ActiveCounts(this.store, this.owner.id);
    this.dbFile = this.store.db.name;
    this.beat = new Heartbeat({
      dbFile: this.dbFile,
      ownerId: this.owner.id,
      leaseMs: this.opts.leaseMs,
      heartbeatMs: this.opts.heartbeatMs,
      housekeepingMs: this.opts.housekeepingMs,
      housekeeping: options.housekeeping,
      mayHouseKeep: () => !this.stopping && !this.storeFailure,
      onBeat: (renewInline) => this.heartbeat(renewInline),
      onError: (err) => void this.fault(err),
    });
  }

  /** Give a run's ownership up; a failure is left for the next heartbeat to try again. */
  private releaseQuietly(run: { dagId: string; runId: string }): void {
    try {
      this.store.runs.release(run.dagId, run.runId, this.owner.id);
    } catch (err) {
      this.logger.warn({ err, dag: run.dagId, run: run.runId }, 'could not let the run go yet; trying again at the next heartbeat');
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
      // Awaited: when runDag returns, no thread of this scheduler still holds the database.
      await this.stopHeartbeat();
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
    if (this.stopping) throw new RunNotStartedError(dagId);
    this.startHeartbeat();
    let driver = orphan && this.start(orphan, dag);
    if (orphan && !driver) {
      // Another process adopted it first (a scheduler, or the same command run twice): watch it instead.
      const current = this.store.runs.get(dagId, orphan.runId)!;
      return this.followTwin(current, dag, options.signal);
    }
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
      // Told to stop while deciding: the run just claimed is let go at once, never started.
      if (this.stopping && decided.claimed) {
        this.releaseQuietly(decided.claimed);
        throw new RunNotStartedError(dagId);
      }
      if (!decided.claimed) throw new Error('a run this process just created was claimed by another process');
      driver = this.drive(decided.claimed, dag, true);
    }
    const state = await driver.done;
    if (this.storeFailure) throw this.storeFailure;
    return { run: this.store.runs.get(dagId, driver.runId)!, state: state === 'queued' ? 'running' : state, adopted };
  }

  /** Watch an identical run another process drives; adopt it if that process dies (unless this one is stopping). */
  private async followTwin(twin: DagRunRow, dag: DagDefinition, signal: AbortSignal | undefined): Promise<RunResult> {
    const followed = { ownerPid: twin.ownerPid, ownerHost: twin.ownerHost };
    const outcome = await followRun(twin, {
      store: this.store,
      events: this.events,
      pollMs: this.opts.followPollMs,
      signal,
      onStart: () => this.events.emit('run', { dagId: twin.dagId, runId: twin.runId, state: 'running', followed }),
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
    const presence = new Presence(this.store, this.owner, this.opts.housekeepingMs, this.logger);
    this.presence = presence;
    this.startHeartbeat();
    this.beat.houseKeep();
    let lastRefresh = 0;
    while (!signal.aborted && !this.storeFailure) {
      try {
        if (Date.now() - lastRefresh >= this.opts.dagRefreshMs) {
          await this.dagBag.refresh();
          this.recordDags();
          // The first pass says so at once, not a heartbeat later: a web server beside it reports triggered runs will start.
          if (lastRefresh === 0) presence.beat(new Date());
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
    if (this.storeFailure) {
      await this.stopHeartbeat();
      throw this.storeFailure;
    }
    this.presence = undefined;
    presence.withdraw(new Date());
    await this.drain();
    // Reaping waits on processes and remote servers: give a round in progress a little time, not forever.
    await this.beat.settle(HOUSEKEEPING_GRACE_MS);
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
    await this.stopHeartbeat();
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

  /** Claim a run and start driving it; undefined if another process holds it, or this one is stopping. */
  private start(run: DagRunRow, dag: DagDefinition, maxRunning?: number): RunDriver | undefined {
    if (this.stopping || this.storeFailure) return undefined;
    const claimed = this.claim(run, maxRunning);
    return claimed && this.drive(claimed, dag, run.startDate === null, run.startDate !== null && run.ownerId === null);
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

  /**
   * Drive a run this process has just claimed; `fresh` when it had never started (its
   * preflight checks run first); `handedOver` when its last owner let it go (a drain) rather than died.
   */
  private drive(claimed: DagRunRow, dag: DagDefinition, fresh: boolean, handedOver = false): RunDriver {
    try {
      // Tasks added to the DAG since the run was created get their rows (Airflow's verify_integrity).
      this.store.tis.addMissing(claimed.dagId, claimed.runId, [...dag.tasks.values()].map((t) => ({ taskId: t.id, maxTries: t.retries + 1, pool: t.pool, operator: t.operatorType })));
    } catch (err) {
      // Not set up (a locked database): let the run go again, so it is adopted later rather than held undriven.
      this.releaseQuietly(claimed);
      throw err;
    }
    const driver = new RunDriver(
      {
        store: this.store,
        owner: this.owner,
        clock: this.clock,
        logger: this.logger,
        events: this.events,
        registry: this.registry,
        slots: this.slots,
        counts: this.counts,
        leaseMs: this.opts.leaseMs,
        abortGraceMs: this.opts.abortGraceMs,
        kick: () => this.kick(),
        flush: () => this.flush(),
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
    if (!fresh) driver.recover(handedOver);
    // A cancel asked for while nobody owned the run is honoured before anything new starts.
    if (claimed.cancelRequested) driver.cancel();
    void driver.begin(fresh);
    return driver;
  }

  private ownerGone(run: DagRunRow): boolean {
    return ownerGone(run, this.clock.now(), { me: this.owner });
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
    void this.stopHeartbeat();
    for (const d of this.drivers.values()) d.abandon(`the database cannot be written (${failure.code})`, 'info');
    return true;
  }

  /** Run a batch soon, once per burst of events: a freed slot may let another run's task start too. */
  private kick(): void {
    if (this.kickPending) return;
    this.kickPending = true;
    queueMicrotask(() => {
      this.kickPending = false;
      this.flush();
    });
  }

  /**
   * One batch: every run writes what ended, decides and starts what may run, all in one
   * write transaction; the tries it started are set going once it has committed. A locked
   * database rolls it back and the next heartbeat tries again; a broken one stops everything.
   */
  private flush(): void {
    if (this.storeFailure) return;
    const drivers = [...this.drivers.values()].filter((d) => !d.isFinished);
    if (drivers.length === 0) return;
    try {
      this.events.atomically(() => this.store.immediate(() => drivers.forEach((d) => d.plan())));
    } catch (err) {
      const busy = isStoreBusy(err);
      for (const d of drivers) d.rollback(busy);
      if (!busy) this.fault(err);
      return;
    }
    for (const d of drivers) d.commit();
  }

  private startHeartbeat(): void {
    if (!this.storeFailure) this.beat.start();
  }

  private stopHeartbeat(): Promise<void> {
    return this.beat.stop();
  }

  /** Notice what other processes changed (cancel, mark, clear, a run taken over); leases are renewed by the keeper. */
  private heartbeat(renewInline: boolean): void {
    try {
      // Leases of other processes' tries may have run out since: their slots are free.
      this.counts.invalidate();
      if (renewInline) this.store.runs.renewLeases(this.owner.id, isoAfter(this.clock, this.opts.leaseMs));
      this.presence?.beat(new Date());
      const owned = this.store.runs.ownedBy(this.owner.id);
      for (const [key, d] of this.drivers) {
        if (d.isFinished) continue;
        if (owned.has(key)) d.sync();
        else d.abandon();
      }
      // A run claimed but never driven (its set-up failed and so did letting it go): let it go now.
      for (const key of owned) {
        if (this.drivers.has(key)) continue;
        const [dagId, runId] = splitKey(key);
        this.releaseQuietly({ dagId, runId });
      }
    } catch (err) {
      this.fault(err);
    }
  }
}

/** How long a stopping scheduler waits for a housekeeping round in progress. */
const HOUSEKEEPING_GRACE_MS = 5_000;

const driverKey = (r: { dagId: string; runId: string }) => `${r.dagId}/${r.runId}`;
/** DAG ids cannot contain '/', run ids can: split at the first one. */
const splitKey = (key: string): [string, string] => [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
