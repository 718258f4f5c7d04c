/**
 * `--conf` as a user types it: an empty one (an unset shell variable) is an error, not "no
 * conf" (which makes `orch run` finish any interrupted run of the DAG); `null` is called null;
 * malformed JSON says the line and column where it breaks.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, executionCounter, killAll, orch, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
let db: DbView;
let counter: ReturnType<typeof executionCounter>;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
  counter = executionCounter(ws);
  ws.writeDag(
    'sized',
    `${counter.snippet}
     const d = dag({ id: 'sized', params: z.object({ size: z.number().default(1) }) });
     d.task({ id: 'work', run: async (ctx) => { count('work'); await until('release', ctx.signal); return ctx.params.size; } });
     export default d;`,
  );
});

afterEach(async () => {
  await killAll();
  db.close();
  ws.cleanup();
});

const INVALID = /^error ORCH_CONF_INVALID_JSON: --conf is not a JSON object: /;

describe('an empty --conf', () => {
  it('is an error for orch run: it neither finishes the interrupted run of the DAG nor starts one', async () => {
    const first = spawnOrch(ws, ['run', 'sized']);
    await waitFor('work to be running', () => db.tasks('sized').work?.state === 'running' && counter.count('work') === 1, PATIENCE_MS, () => first.stderr);
    await first.kill(); // interrupted: `orch run sized` (or with an empty conf, once) would finish it
    counter.signal('release');

    for (const conf of ['', '  ']) {
      const r = await orch(ws, ['run', 'sized', '--conf', conf]);
      expect(r.stderr.trim().split('\n')).toEqual([
        `error ORCH_CONF_INVALID_JSON: --conf is not a JSON object: it is empty (an unset shell variable?); give a JSON object such as '{"key": "value"}' or '{}', or leave --conf out`,
      ]);
      expect(r.code).toBe(2);
    }
    expect(db.runs('sized')).toEqual([expect.objectContaining({ state: 'running' })]);
    expect(counter.count('work')).toBe(1);
  });

  it('is an error for orch trigger and orch tasks test, and queues nothing', async () => {
    for (const args of [['trigger', 'sized'], ['tasks', 'test', 'sized', 'work']]) {
      const r = await orch(ws, [...args, '--conf', '']);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`${INVALID.source}it is empty`));
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(db.runs('sized')).toEqual([]);
    expect(counter.count('work')).toBe(0);
  });
});

describe('a --conf that is not an object', () => {
  it('names null as null', async () => {
    const r = await orch(ws, ['trigger', 'sized', '--conf', 'null']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('error ORCH_CONF_INVALID_JSON: --conf is not a JSON object: expected an object like {"key": "value"}, got null');
  });
});

describe('malformed --conf JSON', () => {
  it('says the line and column where it breaks, also where JSON.parse gives no position', async () => {
    const cases: [string, string][] = [
      // Node 20 says only "Unexpected token '}', … is not valid JSON" for these two.
      ['{"size": }', `Unexpected token "}" — at line 1, column 10 (character 10), near "{\\"size\\": }"`],
      ['{\n  "size": 2,\n  "x": tru\n}', `Unexpected token "\\n" — at line 3, column 11 (character 26), near "  \\"x\\": tru\\n}"`],
      // These come with a position, turned into a line and column the same way.
      ['{"size": 2', `Expected ',' or '}' after property value — at line 1, column 11 (character 11), at the end`],
      ['{size: 2}', `Expected property name or '}' — at line 1, column 2 (character 2), near "{size: 2}"`],
    ];
    for (const [conf, where] of cases) {
      const r = await orch(ws, ['trigger', 'sized', '--conf', conf]);
      expect(r.stderr.trim(), conf).toBe(`error ORCH_CONF_INVALID_JSON: --conf is not a JSON object: ${where}`);
      expect(r.code, conf).toBe(2);
    }
  });
});
