/** The CLI when the user's setup is not tidy: broken files, pipes that close early. */
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, orch, orchEnv } from '../helpers/cli.ts';
import { CLI, REPO, workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
beforeEach(() => {
  ws = workspace();
  ws.writeDag('steps', `
    const d = dag({ id: 'steps' });
    let prev;
    for (let i = 1; i <= 8; i++) prev = d.task({ id: 'step_' + i, upstream: prev ? [prev] : [], run: () => new Promise((r) => setTimeout(() => r(i), 30)) });
    export default d;`);
});
afterEach(() => ws.cleanup());

describe('orch run with an untidy setup', () => {
  it('names the load error of a DAG file with a syntax error instead of calling the DAG unknown', async () => {
    ws.writeDag('broken_syntax', `const d = dag({ id: 'broken_syntax' }; export default d;`);
    const r = await orch(ws, ['run', 'broken_syntax']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("DAG 'broken_syntax' failed to load");
    expect(r.stderr).toContain('broken_syntax.ts: import failed');
  });

  it('finishes the run when its output is piped into a reader that stops early (| head)', async () => {
    const child = spawn(process.execPath, [CLI, 'run', 'steps'], { cwd: REPO, env: orchEnv(ws), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Read one chunk, then go away, as `head -1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
    const db = new DbView(ws.db);
    expect(db.runs('steps').map((r) => r.state)).toEqual(['success']);
    db.close();
  });
});
