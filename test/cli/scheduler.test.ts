/** `orch trigger`, `orch scheduler`, `orch runs list`, `orch pause`/`unpause`, as a user runs them. */
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, workspace, type Workspace } from '../helpers/dags.ts';
import { DbView, executionCounter, json, killAll, orch, orchEnv, orchOk, spawnOrch, waitFor, type OrchProcess, PATIENCE_MS } from '../helpers/cli.ts';

let ws: Workspace;
let counter: ReturnType<typeof executionCounter>;
let db: DbView;

interface RunJson {
  dagId: string;
  runId: string;
  state: string;
  runType: string;
  triggeredBy: string;
  conf: Record<string, unknown>;
}

beforeEach(() => {
  ws = workspace();
  counter = executionCounter(ws);
  db = new DbView(ws.db);
  for (const id of ['alpha', 'beta']) {
    ws.writeDag(
      id,
      `${counter.snippet}
       const d = dag({ id: '${id}', params: z.object({ size: z.number().default(1) }) });
       const first = d.task({ id: 'first', run: (ctx) => { count('${id}.first'); ctx.log.info('size ' + ctx.params.size); return ctx.params.size; } });
       d.task({ id: 'second', upstream: [first], run: (ctx) => { count('${id}.second'); return ctx.xcom.pull<number>('first') * 2; } });
       export default d;`,
    );
  }
});

afterEach(async () => {
  await killAll();
  db.close();
  ws.cleanup();
});

/** Start `orch scheduler` and wait until it has loaded the DAGs. */
async function startScheduler(): Promise<OrchProcess> {
  const s = spawnOrch(ws, ['scheduler']);
  await s.waitForOutput(/scheduler started/, 'the scheduler to start');
  return s;
}

/** SIGTERM the scheduler and expect it to exit 0 by itself. */
async function stopScheduler(s: OrchProcess): Promise<void> {
  s.child.kill('SIGTERM');
  const { code, signal } = await s.waitForExit();
  expect({ code, signal }, s.stderr).toEqual({ code: 0, signal: null });
}

function queuedRunId(stdout: string, dagId: string): string {
  const m = new RegExp(`^queued run (\\S+) of ${dagId}`, 'm').exec(stdout);
  if (!m) throw new Error(`no "queued run" line in:\n${stdout}`);
  return m[1]!;
}

describe('orch trigger and orch scheduler', () => {
  it('queues a run that orch scheduler starts and finishes, with the conf it was given', async () => {
    const trig = await orchOk(ws, ['trigger', 'alpha', '--conf', '{"size": 21}']);
    const runId = queuedRunId(trig.stdout, 'alpha');
    expect(db.runs('alpha')).toEqual([expect.objectContaining({ runId, state: 'queued' })]);
    expect(counter.count('alpha.first')).toBe(0);

    const s = await startScheduler();
    await waitFor('the triggered run to succeed', () => db.runs('alpha')[0]?.state === 'success', PATIENCE_MS, () => s.stderr);
    await stopScheduler(s);

    expect(db.tasks('alpha', runId)).toEqual({ first: { state: 'success', tryNumber: 1 }, second: { state: 'success', tryNumber: 1 } });
    expect([counter.count('alpha.first'), counter.count('alpha.second')]).toEqual([1, 1]);
    expect((await orchOk(ws, ['logs', 'alpha', runId, 'first'])).stdout).toMatch(/size 21/);
  });

  it('shows triggered runs in orch runs list, filtered by --dag, as a table or JSON', async () => {
    const a = queuedRunId((await orchOk(ws, ['trigger', 'alpha'])).stdout, 'alpha');
    const b = queuedRunId((await orchOk(ws, ['trigger', 'beta', '--conf', '{"size": 3}'])).stdout, 'beta');

    let all = json<RunJson[]>(await orchOk(ws, ['runs', 'list', '--json']));
    expect(all.map((r) => [r.dagId, r.runId, r.state]).sort()).toEqual([
      ['alpha', a, 'queued'],
      ['beta', b, 'queued'],
    ]);

    const s = await startScheduler();
    await waitFor('both runs to succeed', () => db.runs('alpha')[0]?.state === 'success' && db.runs('beta')[0]?.state === 'success', PATIENCE_MS, () => s.stderr);
    await stopScheduler(s);

    all = json<RunJson[]>(await orchOk(ws, ['runs', 'list', '--json']));
    expect(all).toHaveLength(2);
    const onlyBeta = json<RunJson[]>(await orchOk(ws, ['runs', 'list', '--dag', 'beta', '--json']));
    expect(onlyBeta).toEqual([expect.objectContaining({ dagId: 'beta', runId: b, state: 'success', runType: 'manual', triggeredBy: 'cli', conf: { size: 3 } })]);

    const table = (await orchOk(ws, ['runs', 'list', '--dag', 'alpha'])).stdout;
    expect(table).toMatch(/DAG_ID\s+RUN_ID\s+STATE/);
    expect(table).toContain(a);
    expect(table).toMatch(new RegExp(`^alpha\\s+\\S+\\s+success\\s+manual`, 'm'));
    expect(table).not.toContain(b);
  });

  it('says there are no runs yet for a DAG that has none', async () => {
    expect((await orchOk(ws, ['runs', 'list', '--dag', 'alpha'])).stdout).toMatch(/No runs of alpha yet/);
  });
});

describe('orch pause and orch unpause', () => {
  it("keeps a paused DAG's triggered run queued under the scheduler until it is unpaused", async () => {
    await orchOk(ws, ['pause', 'alpha']);
    const trig = await orchOk(ws, ['trigger', 'alpha']);
    expect(trig.stdout).toMatch(/the DAG is paused/);
    const pausedRun = queuedRunId(trig.stdout, 'alpha');
    // beta, not paused, is queued after it: the scheduler looks at queued runs oldest first, so once
    // it has started (and finished) beta's run it has seen alpha's and left it.
    await orchOk(ws, ['trigger', 'beta']);

    const s = await startScheduler();
    await waitFor('the unpaused DAG to run', () => db.runs('beta')[0]?.state === 'success', PATIENCE_MS, () => s.stderr);
    expect(db.runs('alpha')).toEqual([expect.objectContaining({ runId: pausedRun, state: 'queued' })]);
    expect(counter.count('alpha.first')).toBe(0);

    await orchOk(ws, ['unpause', 'alpha']);
    await waitFor('the run to start and finish after unpause', () => db.runs('alpha')[0]?.state === 'success', PATIENCE_MS, () => s.stderr);
    await stopScheduler(s);
    expect([counter.count('alpha.first'), counter.count('alpha.second')]).toEqual([1, 1]);
  });
});

describe('orch scheduler on SIGTERM', () => {
  beforeEach(() => {
    ws.writeDag(
      'pipeline',
      `${counter.snippet}
       const d = dag({ id: 'pipeline' });
       const a = d.task({ id: 'a', run: () => { count('a'); } });
       const b = d.task({ id: 'b', upstream: [a], run: async (ctx) => { count('b'); await until('release-b', ctx.signal); ctx.log.info('b finished'); } });
       d.task({ id: 'c', upstream: [b], run: () => { count('c'); } });
       export default d;`,
    );
  });

  it('exits 0 by itself when idle', async () => {
    const s = await startScheduler();
    await stopScheduler(s);
    expect(s.stderr).toMatch(/draining/);
    expect(s.stderr).toMatch(/scheduler stopped/);
  });

  it('drains: lets the running task finish, starts nothing new, exits 0, and leaves the run for the next orch run to finish without re-running finished tasks', async () => {
    const runId = queuedRunId((await orchOk(ws, ['trigger', 'pipeline'])).stdout, 'pipeline');
    const s = await startScheduler();
    await waitFor('task b to be running', () => db.tasks('pipeline').b?.state === 'running', PATIENCE_MS, () => s.stderr);

    s.child.kill('SIGTERM');
    await s.waitForOutput(/SIGTERM: draining/, 'the scheduler to start draining');
    counter.signal('release-b'); // b ends within the drain grace period
    const { code, signal } = await s.waitForExit();
    expect({ code, signal }, s.stderr).toEqual({ code: 0, signal: null });

    // b finished during the drain; c was not started; the run is unfinished and nobody owns it.
    expect(db.tasks('pipeline', runId).b).toEqual({ state: 'success', tryNumber: 1 });
    expect(['none', 'scheduled']).toContain(db.tasks('pipeline', runId).c?.state);
    expect(counter.count('c')).toBe(0);
    expect(db.runs('pipeline')).toEqual([{ runId, state: 'running', ownerPid: null }]);

    const r = await orchOk(ws, ['run', 'pipeline']);
    expect(r.stdout).toMatch(new RegExp(`^resumed run ${runId.replace(/[.]/g, '\\.')}: success$`, 'm'));
    expect(db.runs('pipeline')).toHaveLength(1);
    expect([counter.count('a'), counter.count('b'), counter.count('c')]).toEqual([1, 1, 1]);
  });
});

describe('orch scheduler on SIGTERM, with a try that can be resumed', () => {
  it('detaches it at once instead of interrupting it: it stays running, and the next orch run resumes the same try', async () => {
    ws.writeDag(
      'detachable',
      `${counter.snippet}
       const d = dag({ id: 'detachable' });
       d.task({
         id: 'job',
         run: async (ctx) => { count('job.run'); ctx.handles.record({ kind: 'job', externalId: 'j-' + ctx.tryNumber }); await until('release-job', ctx.signal); return 'done'; },
         resume: async (ctx) => { count('job.resume'); await until('release-job', ctx.signal); return 'resumed ' + ctx.handles.list('job')[0]?.externalId; },
         cleanup: () => { count('job.cleanup'); },
       });
       export default d;`,
    );
    const runId = queuedRunId((await orchOk(ws, ['trigger', 'detachable'])).stdout, 'detachable');
    const s = await startScheduler();
    await waitFor('the job to be running', () => counter.count('job.run') === 1 && db.tasks('detachable').job?.state === 'running', PATIENCE_MS, () => s.stderr);
    s.child.kill('SIGTERM');
    // Not released: a detached try does not hold the drain up.
    const { code } = await s.waitForExit();
    expect(code, s.stderr).toBe(0);
    expect(db.tasks('detachable', runId).job).toEqual({ state: 'running', tryNumber: 1 });
    expect(db.logs('detachable', runId, 'job', 1)).toContain('try 1 detached: its work goes on, and the next orch process to own this run follows it');
    // What it opened is left open for the next owner: its cleanup did not run.
    expect(counter.count('job.cleanup')).toBe(0);

    counter.signal('release-job');
    const r = await orchOk(ws, ['run', 'detachable']);
    expect(r.stdout).toContain(`resumed run ${runId}: success`);
    expect(db.tasks('detachable', runId).job).toEqual({ state: 'success', tryNumber: 1 });
    expect([counter.count('job.run'), counter.count('job.resume'), counter.count('job.cleanup')]).toEqual([1, 1, 1]);
  });
});

describe('orch scheduler and orch run together', () => {
  it('does not let orch run take over or duplicate a run a live scheduler is driving: it follows it and exits with its result', async () => {
    ws.writeDag(
      'held',
      `${counter.snippet}
       const d = dag({ id: 'held' });
       d.task({ id: 'wait', run: async (ctx) => { count('wait'); await until('release-held', ctx.signal); } });
       export default d;`,
    );
    const runId = queuedRunId((await orchOk(ws, ['trigger', 'held'])).stdout, 'held');
    const s = await startScheduler();
    await waitFor('the task to be running', () => db.tasks('held').wait?.state === 'running', PATIENCE_MS, () => s.stderr);

    // The same `orch run` again: no second run, no takeover; it shows the scheduler's run.
    const run = spawnOrch(ws, ['run', 'held']);
    await run.waitForOutput(new RegExp(`held ${runId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(an identical run is already going in pid ${s.child.pid}: following it`), 'orch run to follow the scheduler run');
    counter.signal('release-held');
    expect((await run.waitForExit()).code).toBe(0);
    expect(run.stdout).toContain(`run ${runId} (driven by pid ${s.child.pid}): success`);
    expect(db.runs('held')).toEqual([expect.objectContaining({ runId, state: 'success' })]);
    await stopScheduler(s);
    expect(counter.count('wait')).toBe(1);
  });
});

it('orch trigger exits 2 on malformed --conf and queues nothing', async () => {
  const r = await orch(ws, ['trigger', 'alpha', '--conf', '{size: 1}']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^error ORCH_CONF_INVALID_JSON: --conf is not a JSON object/m);
  expect(db.runs('alpha')).toEqual([]);
});

/**
 * `orch <args>` on a pseudo-terminal, as a person at a shell runs it (through script(1),
 * which gives the child a terminal for stdout and stderr). Resolves with everything it printed.
 */
function onTerminal(args: string[], until: (out: string) => boolean, then: (out: string) => void, timeoutMs = 30_000): Promise<string> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const argv = process.platform === 'darwin' ? ['-q', '/dev/null', process.execPath, CLI, ...args] : ['-qefc', command, '/dev/null'];
  const child = spawn('script', argv, { cwd: ws.root, env: orchEnv(ws), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let fired = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (!fired && until(out)) {
      fired = true;
      then(out);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  // Never hang the suite: past the bound, the terminal goes (and orch with it, by SIGHUP).
  const bound = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(bound);
      resolve(out);
    });
  });
}

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');

describe('orch scheduler logs', () => {
  it('prints one readable line per event on a terminal', async () => {
    await orchOk(ws, ['trigger', 'alpha']);
    const started = /scheduler started \(pid (\d+)\)/;
    // Once the triggered run has been logged as done, stop the scheduler as Ctrl-C would.
    const out = plain(
      await onTerminal(
        ['scheduler'],
        (o) => /run success/.test(o) && started.test(o),
        (o) => process.kill(Number(started.exec(o)![1]), 'SIGTERM'),
      ),
    );
    const time = String.raw`\[\d\d:\d\d:\d\d\.\d{3}\]`;
    expect(out).toMatch(new RegExp(`^${time} INFO: scheduler started \\(pid \\d+\\) \\{"dags":\\["alpha","beta"\\],"folder":".*","db":".*"\\}$`, 'm'));
    expect(out).toMatch(new RegExp(`^${time} INFO: started run \\{"dag":"alpha","run":"manual__\\S+"\\}$`, 'm'));
    expect(out).toMatch(new RegExp(`^${time} INFO: run success \\{"dag":"alpha","run":"manual__\\S+"\\}$`, 'm'));
    expect(out).toMatch(new RegExp(`^${time} INFO: scheduler stopped$`, 'm'));
    // Every line is an event of its own: no JSON records, no fields continued on indented lines.
    const lines = out.split('\n').filter((l) => l.trim());
    expect(lines.filter((l) => !new RegExp(`^${time} `).test(l))).toEqual([]);
  });

  it('writes JSON lines when its output goes to a file or a pipe', async () => {
    const s = await startScheduler();
    await stopScheduler(s);
    const records = s.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; dags?: string[] });
    expect(records[0]).toMatchObject({ level: 30, msg: `scheduler started (pid ${s.child.pid})`, dags: ['alpha', 'beta'] });
    expect(records.at(-1)).toMatchObject({ msg: 'scheduler stopped' });
  });
});
