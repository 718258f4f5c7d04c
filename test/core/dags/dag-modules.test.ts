/**
 * DAG files kept outside the orch repository (a team's own repo): `import … from 'orch/sdk'`
 * resolves to the running orch's SDK — in the loader, in `orch run`, and for tsc with the
 * setup the README gives.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DagBag } from '../../../src/core/dags/loader.ts';
import { DbView, orchOk } from '../../helpers/cli.ts';
import { REPO, SDK, workspace, type Workspace } from '../../helpers/dags.ts';

let ws: Workspace;
let folder: string;

beforeEach(() => {
  ws = workspace();
  // The team's folder: not under the repo, no node_modules, and (unless a test adds one) no package.json.
  folder = join(ws.root, 'team-dags');
  mkdirSync(folder);
  expect(relative(REPO, folder)).toMatch(/^\.\./);
});
afterEach(() => ws.cleanup());

const write = (name: string, text: string) => writeFileSync(join(folder, name), text);

const HELLO = `import { dag, z } from 'orch/sdk';

const d = dag({ id: 'hello', params: z.object({ name: z.string().default('world') }) });
d.task({ id: 'greet', retries: 1, run: (ctx) => \`hello \${ctx.params.name}\` });
export default d;
`;

/** Run a command to its end; never throws, so a test can assert on a failure. */
function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  // Nothing of an enclosing `npm test` (npm_config_prefix …) may point npm back at the repo.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

const tsc = (project: string) => run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', project], project);

describe('DAG files outside the repository', () => {
  it.each([
    ['no package.json', undefined],
    ['a CommonJS package.json', '{ "type": "commonjs" }'],
    ['an ES module package.json', '{ "type": "module" }'],
  ])('load with `orch/sdk` from a folder with %s', async (_, packageJson) => {
    if (packageJson) write('package.json', packageJson);
    write('hello.ts', HELLO);
    const bag = new DagBag(folder);
    await bag.refresh();
    expect(bag.errors()).toEqual([]);
    const hello = bag.get('hello')!;
    expect([...hello.tasks.keys()]).toEqual(['greet']);
    expect(hello.tasks.get('greet')!.retries).toBe(1);
    expect(hello.params!.parse({})).toEqual({ name: 'world' });
  });

  it('run with orch --dags-folder <folder> run, on the very SDK and zod the orch process runs', async () => {
    write(
      'hello.ts',
      HELLO.replace('export default d;', '') +
        `import * as own from ${JSON.stringify(SDK)};
d.task({
  id: 'same_sdk',
  upstream: ['greet'],
  run: (ctx) => {
    // The SDK module orch itself loaded (same file URL): a second copy would fail these.
    if (own.dag !== dag || own.z !== z || !own.isDag(d)) throw new Error('the DAG got a second copy of the SDK');
    ctx.log.info('one SDK: ' + ctx.xcom.pull('greet'));
  },
});
export default d;
`,
    );
    const r = await orchOk(ws, ['--dags-folder', folder, 'run', 'hello', '--conf', '{"name":"team"}']);
    expect(r.stdout).toMatch(/same_sdk success/);
    const db = new DbView(ws.db);
    try {
      const [runRow] = db.runs('hello');
      expect(runRow?.state).toBe('success');
      expect(db.logs('hello', runRow!.runId, 'same_sdk', 1).join('\n')).toContain('one SDK: hello team');
    } finally {
      db.close();
    }
  });

  it("run a task with isolation 'worker' from such a folder: its thread resolves orch/sdk too", async () => {
    write(
      'threaded.ts',
      `import { dag, z } from 'orch/sdk';
const d = dag({ id: 'threaded', params: z.object({ n: z.number().default(6) }) });
d.task({ id: 'in_thread', isolation: 'worker', run: (ctx) => ctx.params.n * 7 });
export default d;
`,
    );
    const r = await orchOk(ws, ['--dags-folder', folder, 'run', 'threaded']);
    expect(r.stdout).toMatch(/in_thread success/);
    const db = new DbView(ws.db);
    try {
      const [runRow] = db.runs('threaded');
      expect(runRow?.state).toBe('success');
    } finally {
      db.close();
    }
  });

  it('load an edited helper module again when the DAG file that imports it changes', async () => {
    write('package.json', '{ "type": "module" }');
    mkdirSync(join(folder, 'lib'));
    write('lib/tasks.ts', `export const TASKS = ['one'];\n`);
    const dagFile = (version: number) =>
      `import { dag } from 'orch/sdk';\nimport { TASKS } from './lib/tasks.ts';\n// version ${version}\n` +
      `const d = dag({ id: 'from_helper' });\nfor (const id of TASKS) d.task({ id, run: () => id });\nexport default d;\n`;
    write('from_helper.ts', dagFile(1));
    const bag = new DagBag(folder);
    await bag.refresh();
    expect(bag.errors()).toEqual([]);
    expect([...bag.get('from_helper')!.tasks.keys()]).toEqual(['one']);

    write('lib/tasks.ts', `export const TASKS = ['one', 'two'];\n`);
    write('from_helper.ts', dagFile(2));
    await bag.refresh();
    expect([...bag.get('from_helper')!.tasks.keys()]).toEqual(['one', 'two']);
  });
});

describe('TypeScript as a DAG author writes it', () => {
  it.each([
    ['with a .js extension', './lib/names.js'],
    ['without an extension', './lib/names'],
    ['as a folder with an index.ts', './lib'],
  ])('resolves a helper imported %s to its .ts file', async (_, specifier) => {
    mkdirSync(join(folder, 'lib'));
    write('lib/names.ts', `export const NAMES: string[] = ['x', 'y'];\n`);
    write('lib/index.ts', `export { NAMES } from './names.js';\n`);
    write('helped.ts', `import { dag } from 'orch/sdk';\nimport { NAMES } from '${specifier}';\nconst d = dag({ id: 'helped' });\nfor (const id of NAMES) d.task({ id, run: () => id });\nexport default d;\n`);
    const bag = new DagBag(folder);
    await bag.refresh();
    expect(bag.errors()).toEqual([]);
    expect([...bag.get('helped')!.tasks.keys()]).toEqual(['x', 'y']);
  });
});

describe('compiled DAG files are kept under orch\'s home', () => {
  const compiled = () => join(ws.home, 'cache', 'compiled');
  const listed = (out: string) => out.split('\n').filter((l) => /^\w+\s/.test(l) && !l.startsWith('DAG_ID')).map((l) => l.split(/\s+/)[0]);

  it('compiles a DAG file once and reads the kept output on the next start', async () => {
    writeFileSync(join(ws.dags, 'cached.ts'), `import { dag } from 'orch/sdk';\nconst d = dag({ id: 'cached_dag' });\nd.task({ id: 't', run: () => 1 });\nexport default d;\n`);
    expect(listed((await orchOk(ws, ['dags', 'list'])).stdout)).toEqual(['cached_dag']);
    const kept = readdirSync(compiled()).filter((f) => readFileSync(join(compiled(), f), 'utf8').includes('cached_dag'));
    expect(kept).toHaveLength(1);
    // Were it compiled again, the DAG would still be cached_dag: the kept output is what runs.
    const file = join(compiled(), kept[0]!);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/(["'])cached_dag\1/, "'from_the_cache'"));
    expect(listed((await orchOk(ws, ['dags', 'list'])).stdout)).toEqual(['from_the_cache']);
    // An edit changes the key: the new source is compiled, not the stale output reused.
    writeFileSync(join(ws.dags, 'cached.ts'), readFileSync(join(ws.dags, 'cached.ts'), 'utf8').replace("'cached_dag'", "'edited_dag'"));
    expect(listed((await orchOk(ws, ['dags', 'list'])).stdout)).toEqual(['edited_dag']);
  });

  it('still loads every DAG when the cache folder cannot be written', async () => {
    mkdirSync(join(ws.home, 'cache'), { recursive: true });
    writeFileSync(compiled(), 'not a folder'); // root ignores file modes; a file in the way stops anyone
    writeFileSync(join(ws.dags, 'plain.ts'), `import { dag } from 'orch/sdk';\nconst d = dag({ id: 'plain' });\nd.task({ id: 't', run: () => 1 });\nexport default d;\n`);
    const r = await orchOk(ws, ['dags', 'list']);
    expect(listed(r.stdout)).toEqual(['plain']);
    expect(r.stderr).toBe('');
  });
});

describe('typechecking DAG files outside the repository (the README setups)', () => {
  const TSCONFIG = {
    compilerOptions: {
      target: 'ES2023',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
    },
  };
  const TYPO = HELLO.replace("id: 'greet', retries: 1", "id: 'greet', retires: 1");

  it('tsc passes a correct DAG and names a misspelled option, with orch installed by npm i -D <orch checkout>', async () => {
    write('package.json', '{ "name": "team-dags", "private": true, "type": "module" }');
    const install = await run('npm', ['install', '--save-dev', '--offline', '--no-audit', '--no-fund', REPO], folder);
    expect(install.code, install.output).toBe(0);
    expect(JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')).devDependencies.orch).toMatch(/^file:/);
    write('tsconfig.json', JSON.stringify(TSCONFIG, null, 2));
    write('hello.ts', HELLO);
    const ok = await tsc(folder);
    expect(ok.code, ok.output).toBe(0);

    write('typo.ts', TYPO);
    const bad = await tsc(folder);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/typo\.ts\(4,\d+\): error TS\d+:[\s\S]*'retires' does not exist[\s\S]*Did you mean to write 'retries'\?/);
  });

  it('tsc passes a correct DAG and names a misspelled option, with a tsconfig paths entry for orch/sdk', async () => {
    const config = { compilerOptions: { ...TSCONFIG.compilerOptions, paths: { 'orch/sdk': [join(REPO, 'src/sdk/index.ts')] } } };
    write('tsconfig.json', JSON.stringify(config, null, 2));
    write('hello.ts', HELLO);
    const ok = await tsc(folder);
    expect(ok.code, ok.output).toBe(0);

    rmSync(join(folder, 'hello.ts'));
    write('typo.ts', TYPO);
    const bad = await tsc(folder);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/'retires' does not exist/);
  });
});
