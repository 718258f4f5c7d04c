/** `orch logs`: a try's lines as text or JSON Lines, and what it says about a wrong DAG, run or try. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskLogRow } from '../../src/store/index.ts';
import { orch, orchOk } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
let runId: string;

beforeAll(async () => {
  ws = workspace();
  ws.writeDag(
    'talk',
    `const d = dag({ id: 'talk' });
     d.task({ id: 'say', retries: 1, retryDelay: 10, run: (ctx) => {
       ctx.log.info('hello from try ' + ctx.tryNumber);
       if (ctx.tryNumber === 1) throw new Error('try 1 fails');
       ctx.log.warn('second try went through');
     } });
     export default d;`,
  );
  runId = /^run (\S+): success$/m.exec((await orchOk(ws, ['run', 'talk'])).stdout)![1]!;
});
afterAll(() => ws.cleanup());

const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as TaskLogRow);

describe('orch logs', () => {
  it('prints one JSON object per line with --json, the same lines the text view shows', async () => {
    const text = (await orchOk(ws, ['logs', 'talk', runId, 'say'])).stdout.trim().split('\n');
    const rows = lines((await orchOk(ws, ['logs', 'talk', runId, 'say', '--json'])).stdout);
    expect(rows.length).toBe(text.length);
    expect(rows.map((r) => `${r.ts} ${r.level.toUpperCase().padEnd(5)} [${r.source}] ${r.message}`)).toEqual(text);
    expect(rows.every((r) => r.tryNumber === 2)).toBe(true);
    expect(rows).toContainEqual(expect.objectContaining({ level: 'info', source: 'orch', message: 'hello from try 2' }));
    expect(rows).toContainEqual(expect.objectContaining({ level: 'warn', message: 'second try went through' }));
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => a - b));
  });

  it('prints an earlier try with --try', async () => {
    const rows = lines((await orchOk(ws, ['logs', 'talk', runId, 'say', '--try', '1', '--json'])).stdout);
    expect(rows.map((r) => r.message)).toContain('hello from try 1');
    expect(rows.some((r) => r.message.includes('try 1 fails'))).toBe(true);
  });

  it('says the DAG is unknown (not the run) for an unknown DAG', async () => {
    const r = await orch(ws, ['logs', 'tlak', runId, 'say']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ORCH_DAG_NOT_FOUND: DAG 'tlak' not found\. Did you mean 'talk'\?/m);
  });

  it('exits 2 naming the tries there are for a try that does not exist, and for a --try that is not a number', async () => {
    const none = await orch(ws, ['logs', 'talk', runId, 'say', '--try', '3']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error ORCH_TRY_NOT_FOUND: task 'say' has 2 tries; --try must be 1\.\.2, got 3$/m);
    const nan = await orch(ws, ['logs', 'talk', runId, 'say', '--try', 'last']);
    expect(nan.code).toBe(2);
    expect(nan.stderr).toMatch(/^error ORCH_USAGE: .*--try must be a non-negative integer, got 'last'/m);
    expect(nan.stderr).toContain('usage: orch logs [options] <dag> <run_id> <task>');
  });
});
