/** Bad flags and values: one `error ORCH_USAGE: …` line, the command's usage line, exit 2, never a stack trace. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
});
afterAll(() => ws.cleanup());

const STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe('usage errors', () => {
  it('orch engine --port abc exits 2 with the usage line, not a stack trace', async () => {
    const r = await orch(ws, ['engine', '--port', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ORCH_USAGE: option '--port <n>' argument 'abc' is invalid\. --port must be a non-negative integer, got 'abc'$/m);
    expect(r.stderr).toMatch(/^usage: orch engine \[options\]$/m);
    expect(r.stderr).toContain('(run orch engine --help for more)');
    expect(r.stderr).not.toMatch(STACK);
  });

  it('orch engine --max-sessions with a word exits 2 the same way', async () => {
    const r = await orch(ws, ['engine', '--max-sessions', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ORCH_USAGE: .*--max-sessions must be a non-negative integer, got 'many'$/m);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('orch sample movielens with an unknown --scale or a --seed that is not a number exits 2 naming what is allowed', async () => {
    const scale = await orch(ws, ['sample', 'movielens', '--out', ws.root, '--scale', 'huge']);
    expect(scale.code).toBe(2);
    expect(scale.stderr).toMatch(/^error ORCH_USAGE: .*--scale must be one of small, medium, 25m, got 'huge'$/m);
    expect(scale.stderr).toMatch(/^usage: orch sample movielens \[options\]$/m);
    const seed = await orch(ws, ['sample', 'movielens', '--out', ws.root, '--seed', 'x1']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/^error ORCH_USAGE: .*--seed must be a non-negative integer, got 'x1'$/m);
  });

  it('an unknown option names the command it was given to', async () => {
    const r = await orch(ws, ['runs', 'list', '--dga', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ORCH_USAGE: unknown option '--dga'/m);
    expect(r.stderr).toMatch(/^usage: orch runs list \[options\]$/m);
  });
});
