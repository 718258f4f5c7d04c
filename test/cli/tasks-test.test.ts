/**
 * `orch tasks test` of a cluster DAG's create and terminate tasks: nothing is recorded, so
 * the engine create_cluster starts is left running and terminate_cluster cannot find it.
 * The output must say so, and give the exact command that stops the engine.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orchOk, waitFor } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { SDK_OPERATORS } from '../helpers/movielens.ts';
import { pidAlive } from '../../src/util/process.ts';

let ws: Workspace;
const started: number[] = [];

beforeEach(() => {
  ws = workspace();
  ws.writeDag(
    'cluster_dag',
    `${SDK_OPERATORS}
     const d = dag({ id: 'cluster_dag' });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'tried' }) });
     const query = d.task({ id: 'query', upstream: [create], operator: livy.statement({ cluster: create, code: { duckdb: 'SELECT 1' } }) });
     d.task({ id: 'terminate_cluster', upstream: [query], operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
});

afterEach(() => {
  for (const pid of started.splice(0)) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  ws.cleanup();
});

/** `orch tasks test cluster_dag create_cluster`: its output and the pid of the engine it left. */
async function createAlone(): Promise<{ stdout: string; pid: number }> {
  const { stdout } = await orchOk(ws, ['tasks', 'test', 'cluster_dag', 'create_cluster']);
  const { pid } = JSON.parse(/^return value: (.*)$/m.exec(stdout)![1]!) as { pid: number };
  started.push(pid);
  return { stdout, pid };
}

/** Run the `kill <pid>` a note gave, as the user would. */
function runKill(stdout: string, pattern: RegExp): number {
  const [, pid] = pattern.exec(stdout) ?? [];
  expect(pid, stdout).toBeDefined();
  execFileSync('kill', [pid!]);
  return Number(pid);
}

describe('orch tasks test create_cluster', () => {
  it('says the engine it leaves running is not stopped by anything orch does, and gives the kill command that stops it', async () => {
    const { stdout, pid } = await createAlone();
    expect(pidAlive(pid)).toBe(true);
    expect(stdout).toMatch(
      new RegExp(`^note: the task started an orch engine, cluster tried-test__\\S+ \\(pid ${pid}\\) at http://127\\.0\\.0\\.1:\\d+, and left it running: orch tasks test records nothing, so no terminate_cluster or reaper will stop it\\. Stop it when done with: kill ${pid}$`, 'm'),
    );
    expect(runKill(stdout, /Stop it when done with: kill (\d+)$/m)).toBe(pid);
    await waitFor(`engine pid ${pid} to stop`, () => !pidAlive(pid));
  });
});

describe('orch tasks test terminate_cluster', () => {
  it('says it terminated nothing because tasks test records nothing, and how to stop the engine an earlier tasks test left', async () => {
    const { pid } = await createAlone();
    const { stdout } = await orchOk(ws, ['tasks', 'test', 'cluster_dag', 'terminate_cluster']);
    expect(stdout).toContain(
      "note: orch tasks test records nothing, so this task had no cluster of 'create_cluster' to find and terminated nothing — not even an engine an earlier `orch tasks test cluster_dag create_cluster` started",
    );
    expect(stdout).toMatch(new RegExp(`^an engine orch tasks test started is still running: tried-test__\\S+ \\(pid ${pid}\\); stop it with: kill ${pid}$`, 'm'));
    expect(pidAlive(pid)).toBe(true); // terminate really did not stop it

    expect(runKill(stdout, /stop it with: kill (\d+)$/m)).toBe(pid);
    await waitFor(`engine pid ${pid} to stop`, () => !pidAlive(pid));
    const again = await orchOk(ws, ['tasks', 'test', 'cluster_dag', 'terminate_cluster']);
    expect(again.stdout).toContain(`no engine started by orch tasks test is running in ${ws.home}`);
  });
});
