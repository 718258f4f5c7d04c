/** `orch dags list`, `orch dags show`, and the unknown-DAG error, as a user runs them. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { json, orch, orchOk } from '../helpers/cli.ts';

let ws: Workspace;

beforeEach(() => {
  ws = workspace();
  ws.writeDag(
    'etl',
    `const d = dag({ id: 'etl', schedule: '@daily', startDate: '2026-01-01' });
     const extract = d.task({ id: 'extract', run: () => 1 });
     const a = d.task({ id: 'transform_a', upstream: [extract], run: () => 2 });
     const b = d.task({ id: 'transform_b', upstream: [extract], run: () => 3 });
     d.task({ id: 'load', upstream: [a, b], triggerRule: 'all_done', run: () => 4 });
     export default d;`,
  );
  ws.writeDag(
    'adhoc',
    `const d = dag({ id: 'adhoc' });
     d.task({ id: 'only', run: () => 'ok' });
     export default d;`,
  );
});

afterEach(() => ws.cleanup());

describe('orch dags list', () => {
  it('lists every DAG with its schedule, paused flag, task count and file', async () => {
    const r = await orchOk(ws, ['dags', 'list']);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/DAG_ID\s+SCHEDULE\s+PAUSED\s+TASKS\s+FILE/);
    const etl = lines.find((l) => l.startsWith('etl '));
    const adhoc = lines.find((l) => l.startsWith('adhoc '));
    expect(etl).toMatch(/^etl\s+@daily\s+no\s+4\s+\S*etl\.ts$/);
    expect(adhoc).toMatch(/^adhoc\s+none\s+no\s+1\s+\S*adhoc\.ts$/);
    expect(r.stdout).not.toMatch(/Load errors/);
  });

  it('prints the same facts as JSON with --json', async () => {
    const out = json<{ dagsFolder: string; dags: Record<string, unknown>[]; errors: unknown[] }>(await orchOk(ws, ['dags', 'list', '--json']));
    expect(out.dagsFolder).toBe(ws.dags);
    expect(out.errors).toEqual([]);
    expect(out.dags.map((d) => d.dagId)).toEqual(['adhoc', 'etl']);
    expect(out.dags.find((d) => d.dagId === 'etl')).toMatchObject({ schedule: '@daily', paused: false, tasks: 4, file: expect.stringMatching(/etl\.ts$/) });
    expect(out.dags.find((d) => d.dagId === 'adhoc')).toMatchObject({ schedule: null, paused: false, tasks: 1, file: expect.stringMatching(/adhoc\.ts$/) });
  });

  it('shows a DAG as paused after orch pause, and not after orch unpause', async () => {
    expect((await orchOk(ws, ['pause', 'etl'])).stdout).toMatch(/etl is paused/);
    let out = json<{ dags: { dagId: string; paused: boolean }[] }>(await orchOk(ws, ['dags', 'list', '--json']));
    expect(out.dags.map((d) => [d.dagId, d.paused])).toEqual([
      ['adhoc', false],
      ['etl', true],
    ]);
    expect((await orchOk(ws, ['dags', 'list'])).stdout).toMatch(/^etl\s+@daily\s+yes\s+4/m);

    expect((await orchOk(ws, ['unpause', 'etl'])).stdout).toMatch(/etl is unpaused/);
    out = json(await orchOk(ws, ['dags', 'list', '--json']));
    expect(out.dags.find((d) => d.dagId === 'etl')?.paused).toBe(false);
  });

  it('reports a file that throws at import under its file name while the other DAGs still list', async () => {
    ws.writeDag('broken', `throw new Error('cannot reach the config service');\nexport default dag({ id: 'broken' });`);
    const r = await orchOk(ws, ['dags', 'list']);
    expect(r.stdout).toMatch(/^etl\s/m);
    expect(r.stdout).toMatch(/^adhoc\s/m);
    expect(r.stdout).toMatch(/Load errors \(1\):/);
    expect(r.stdout).toMatch(/\[ORCH_DAG_IMPORT\] \S*broken\.ts: .*cannot reach the config service/);

    const out = json<{ dags: { dagId: string }[]; errors: { file: string; code: string; message: string }[] }>(await orchOk(ws, ['dags', 'list', '--json']));
    expect(out.dags.map((d) => d.dagId)).toEqual(['adhoc', 'etl']);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]!.file).toMatch(/broken\.ts$/);
    expect(out.errors[0]!.code).toBe('ORCH_DAG_IMPORT');
    expect(out.errors[0]!.message).toContain('cannot reach the config service');
  });

  it('reports a DAG with a cycle by file and cycle path, and the good DAGs still list', async () => {
    ws.writeDag(
      'loop',
      `const d = dag({ id: 'loop' });
       d.task({ id: 'a', upstream: ['c'], run: () => 1 });
       d.task({ id: 'b', upstream: ['a'], run: () => 1 });
       d.task({ id: 'c', upstream: ['b'], run: () => 1 });
       export default d;`,
    );
    const out = json<{ dags: { dagId: string }[]; errors: { file: string; code: string; message: string }[] }>(await orchOk(ws, ['dags', 'list', '--json']));
    expect(out.dags.map((d) => d.dagId)).toEqual(['adhoc', 'etl']);
    expect(out.errors).toEqual([expect.objectContaining({ file: expect.stringMatching(/loop\.ts$/), code: 'ORCH_DAG_CYCLE' })]);
    expect(out.errors[0]!.message).toMatch(/a → b → c → a|b → c → a → b|c → a → b → c/);
  });

  it('says where it looked when the DAGs folder has no DAGs', async () => {
    const r = await orchOk(ws, ['dags', 'list', '--dags-folder', ws.home]);
    expect(r.stdout).toContain(`No DAGs in ${ws.home}`);
  });

  it('exits 2 naming the folder, where the setting came from and how to set it, when the DAGs folder does not exist', async () => {
    const missing = join(ws.root, 'dgas');
    const flag = await orch(ws, ['dags', 'list', '--dags-folder', missing]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(new RegExp(`^error ORCH_DAGS_FOLDER_MISSING: the DAGs folder ${missing} does not exist \\(from --dags-folder\\)\\. Point orch at your DAG files with --dags-folder <dir>, ORCH_DAGS_FOLDER, or "dagsFolder" in orch\\.config\\.json$`, 'm'));
    expect(flag.stdout).toBe('');
    const env = await orch(ws, ['dags', 'list', '--json'], { env: { ORCH_DAGS_FOLDER: missing } });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain(`the DAGs folder ${missing} does not exist (from ORCH_DAGS_FOLDER)`);
    // Any command looking for a DAG there says the same, rather than calling the DAG unknown.
    const run = await orch(ws, ['run', 'etl', '--dags-folder', missing]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error ORCH_DAGS_FOLDER_MISSING: /m);
  });
});

describe('orch dags show', () => {
  it("prints a DAG's tasks with their upstream and trigger rules, and its edges", async () => {
    const r = await orchOk(ws, ['dags', 'show', 'etl']);
    expect(r.stdout).toMatch(/^etl\n/);
    expect(r.stdout).toMatch(/schedule @daily/);
    expect(r.stdout).toMatch(/^extract\s+function\s+-\s+all_success/m);
    expect(r.stdout).toMatch(/^load\s+function\s+transform_a, transform_b\s+all_done/m);
    const edges = r.stdout.split('edges:\n')[1]!.trim().split('\n').map((l) => l.trim());
    expect(edges.sort()).toEqual(['extract → transform_a', 'extract → transform_b', 'transform_a → load', 'transform_b → load']);
  });

  it('prints tasks and edges as JSON with --json', async () => {
    const out = json<{
      dagId: string;
      schedule: string;
      tasks: { taskId: string; upstream: string[]; downstream: string[]; triggerRule: string }[];
      edges: { from: string; to: string }[];
    }>(await orchOk(ws, ['dags', 'show', 'etl', '--json']));
    expect(out.dagId).toBe('etl');
    expect(out.schedule).toBe('@daily');
    expect(out.tasks.map((t) => t.taskId).sort()).toEqual(['extract', 'load', 'transform_a', 'transform_b']);
    expect(out.tasks.find((t) => t.taskId === 'extract')).toMatchObject({ upstream: [], downstream: expect.arrayContaining(['transform_a', 'transform_b']) });
    expect(out.tasks.find((t) => t.taskId === 'load')).toMatchObject({ upstream: ['transform_a', 'transform_b'], downstream: [], triggerRule: 'all_done' });
    expect(out.edges).toHaveLength(4);
    expect(out.edges).toEqual(
      expect.arrayContaining([
        { from: 'extract', to: 'transform_a' },
        { from: 'extract', to: 'transform_b' },
        { from: 'transform_a', to: 'load' },
        { from: 'transform_b', to: 'load' },
      ]),
    );
  });
});

describe('an unknown DAG id', () => {
  for (const args of [
    ['dags', 'show', 'elt'],
    ['run', 'elt'],
    ['trigger', 'elt'],
    ['pause', 'elt'],
    ['tasks', 'test', 'elt', 'extract'],
    ['runs', 'list', '--dag', 'elt'],
    ['runs', 'show', 'elt', 'manual__x'],
    ['runs', 'cancel', 'elt', 'manual__x'],
    ['tasks', 'mark', 'elt', 'manual__x', 'extract', 'success'],
    ['logs', 'elt', 'manual__x', 'extract'],
  ]) {
    it(`exits 2 and lists the known DAGs (orch ${args.join(' ')})`, async () => {
      const r = await orch(ws, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error ORCH_DAG_NOT_FOUND: DAG 'elt' not found/m);
      expect(r.stderr).toMatch(/Known DAGs: adhoc, etl/);
    });
  }

  it('exits 2 with the load error when the DAG id belongs to a file that failed validation', async () => {
    ws.writeDag(
      'bad_rule',
      `const d = dag({ id: 'bad_rule' });
       d.task({ id: 'a', triggerRule: 'all_sucess' as 'all_success', run: () => 1 });
       export default d;`,
    );
    const r = await orch(ws, ['run', 'bad_rule']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DAG 'bad_rule' failed to load/);
    expect(r.stderr).toMatch(/bad_rule\.ts/);
    expect(r.stderr).toMatch(/all_sucess/);
  });
});

describe('usage errors', () => {
  it('exits 2 with a pointer to --help for a missing argument or an unknown command', async () => {
    const missing = await orch(ws, ['run']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error ORCH_USAGE: missing required argument 'dag'$/m);
    expect(missing.stderr).toMatch(/^usage: orch run \[options\] <dag>$/m);
    expect(missing.stderr).toMatch(/orch run --help/);
    const unknown = await orch(ws, ['runz']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error ORCH_USAGE: unknown command 'runz'$/m);
    expect(unknown.stderr).toMatch(/orch --help/);
    expect((await orch(ws, ['--help'])).code).toBe(0);
  });
});
