/**
 * The embedded backend's engines stop by themselves when nobody uses them: an engine outlives
 * its orch process on purpose (a crashed run resumes against it), so one whose run is never
 * resumed must not run forever. `orch tasks test … create_cluster` leaves exactly such an engine.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orch, orchOk, waitFor, PATIENCE_MS } from '../../helpers/cli.ts';
import { workspace, type Workspace } from '../../helpers/dags.ts';
import { SDK_OPERATORS, processRunning } from '../../helpers/movielens.ts';

let ws: Workspace;

/** Engines started in this workspace: `tasks test` records no handle, so look at the processes. */
function enginesOf(home: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const args = commandLine(pid);
        return args.includes('engine') && args.some((arg) => arg.startsWith(home));
      } catch {
        return false; // gone meanwhile
      }
    });
}

beforeEach(() => (ws = workspace()));
afterEach(() => {
  for (const pid of enginesOf(ws.home)) if (processRunning(pid)) process.kill(pid, 'SIGKILL');
  ws.cleanup();
});

/** A DAG with one task, `create_cluster`, whose cluster.create options are `options` (TypeScript source). */
function writeClusterDag(options: string): void {
  ws.writeDag(
    'cluster_dag',
    `${SDK_OPERATORS}
     const d = dag({ id: 'cluster_dag' });
     d.task({ id: 'create_cluster', operator: cluster.create({ name: 'idle', ${options} }) });
     export default d;`,
  );
}

/** Run create_cluster alone; the engine it starts is left running. Returns its pid and log file. */
async function createClusterAlone(): Promise<{ pid: number; logFile: string; livyUrl: string; tokenFile: string }> {
  const r = await orchOk(ws, ['tasks', 'test', 'cluster_dag', 'create_cluster']);
  return JSON.parse(/^return value: (.*)$/m.exec(r.stdout)![1]!) as { pid: number; logFile: string; livyUrl: string; tokenFile: string };
}

const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

describe('an engine the embedded backend started', () => {
  it('answers only requests that carry its token, kept in a file only this user can read', async () => {
    writeClusterDag(`embedded: { idleTimeout: '5m' }`);
    const { pid, livyUrl, tokenFile } = await createClusterAlone();
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    // The token is not on the command line, where any local user can read it.
    expect(commandLine(pid).join(' ')).not.toContain(token);
    const get = (headers: Record<string, string> = {}) => fetch(`${livyUrl}/sessions`, { headers, signal: AbortSignal.timeout(10_000) });
    expect((await get()).status).toBe(401);
    expect((await get({ authorization: 'Bearer 0000' })).status).toBe(401);
    expect((await get({ authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('stops by itself after embedded.idleTimeout with nothing to do, saying why in its log', async () => {
    writeClusterDag(`embedded: { idleTimeout: '1s' }`);
    const { pid, logFile } = await createClusterAlone();
    await waitFor(`engine pid ${pid} to stop by itself`, () => !processRunning(pid), PATIENCE_MS, () => readFileSync(logFile, 'utf8'));
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('orch engine stopping: no open session, no running batch and no HTTP request for 1s (--idle-timeout)');
    expect(log).toContain('orch engine stopped (idle timeout)');
  });

  it('gets a one-hour idle timeout when the DAG does not set one', async () => {
    writeClusterDag('');
    const { pid } = await createClusterAlone();
    expect(existsSync(`/proc/${pid}/cmdline`)).toBe(true);
    const args = commandLine(pid);
    expect(args[args.indexOf('--idle-timeout') + 1]).toBe('1h');
  });

  it('takes its idle timeout from backends.embedded.idleTimeout in orch.config.json when the DAG sets none', async () => {
    writeFileSync(join(ws.root, 'orch.config.json'), JSON.stringify({ backends: { embedded: { idleTimeout: '45m' } } }));
    writeClusterDag('');
    const { pid } = await createClusterAlone();
    const args = commandLine(pid);
    expect(args[args.indexOf('--idle-timeout') + 1]).toBe('45m');
  });

  it('refuses a bad backends.embedded setting before any engine starts, naming it', async () => {
    writeFileSync(join(ws.root, 'orch.config.json'), JSON.stringify({ backends: { embedded: { idleTimeout: 'soon' } } }));
    writeClusterDag('');
    const r = await orch(ws, ['run', 'cluster_dag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error ORCH_CONFIG_INVALID: \S*orch\.config\.json: backends\.embedded\.idleTimeout: 'soon' is not a duration/);
    expect(enginesOf(ws.home)).toEqual([]);
  });

  it('refuses a memoryLimit the engine would refuse, when the DAG file loads, naming the field and the forms', async () => {
    writeClusterDag(`embedded: { memoryLimit: 'none' }`);
    const r = await orch(ws, ['tasks', 'test', 'cluster_dag', 'create_cluster']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cluster.create: embedded.memoryLimit: it must be a size such as '2GB' or '512MiB'");
    expect(enginesOf(ws.home)).toEqual([]);
  });

  it('refuses an idleTimeout that is not a duration when the DAG file loads, naming the field', async () => {
    writeClusterDag(`embedded: { idleTimeout: 'soon' }`);
    const r = await orch(ws, ['tasks', 'test', 'cluster_dag', 'create_cluster']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cluster.create: embedded.idleTimeout: 'soon' is not a duration");
  });
});
