/** Bad flags and values: one `error ORCH_USAGE: …` line, the command's usage line, exit 2, never a stack trace. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.ts';
import { REPO, workspace, type Workspace } from '../helpers/dags.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
});
afterAll(() => ws.cleanup());

const STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe('the version', () => {
  it('orch --version and -V print the version in package.json and nothing else', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await orch(ws, [flag]);
      expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });
});

describe('help', () => {
  it('orch --help lists every command, and a command given after the global options still runs', async () => {
    const help = await orch(ws, ['--help']);
    expect(help.code).toBe(0);
    for (const command of ['dags', 'run', 'trigger', 'runs', 'logs', 'tasks', 'scheduler', 'web', 'standalone', 'engine', 'sample']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const list = await orch(ws, ['--dags-folder', ws.dags, 'runs', 'list']);
    expect(list).toMatchObject({ code: 0, stderr: '' });
  });
});

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

  it('orch engine with an out-of-range port, no sessions, a bad idle timeout or memory limit exits 2 with the usage line and the valid forms', async () => {
    const forms = "a size such as '2GB' or '512MiB' (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB) or a share of the machine such as '25%'";
    const cases: [string[], string][] = [
      [['--port', '99999'], "option '--port <n>' argument '99999' is invalid. --port must be from 0 to 65535 (0 picks a free one), got '99999'"],
      [['--max-sessions', '0'], "option '--max-sessions <n>' argument '0' is invalid. --max-sessions must be 1 or more, got '0'"],
      [['--idle-timeout', 'forever'], "option '--idle-timeout <duration>' argument 'forever' is invalid. --idle-timeout: 'forever' is not a duration (use e.g. '500ms', '30s', '5m', '2h', '1d'); 0 turns it off"],
      [['--memory-limit', 'lots'], `option '--memory-limit <size>' argument 'lots' is invalid. --memory-limit: it must be ${forms}, got 'lots'`],
      [['--memory-limit', '0GB'], "option '--memory-limit <size>' argument '0GB' is invalid. --memory-limit: a size must be above zero, got '0GB'"],
      [['--memory-limit', '150%'], "option '--memory-limit <size>' argument '150%' is invalid. --memory-limit: a share of the machine's memory must be above 0% and at most 100%, got '150%'"],
    ];
    for (const [args, message] of cases) {
      const r = await orch(ws, ['engine', ...args, '--home', ws.home]);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toEqual([`error ORCH_USAGE: ${message}`, 'usage: orch engine [options]', '(run orch engine --help for more)']);
      expect(r.code, args.join(' ')).toBe(2);
    }
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
