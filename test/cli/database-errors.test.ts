/**
 * A database that opens but fails later: a file damaged in the middle (SQLite finds out
 * only when a query reads a bad page), a read-only file (found out at the first write).
 * Every command says so in one line naming the file, exit 2, never with a stack trace.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orchEnv, orchOk, orch, PATIENCE_MS, type CliResult } from '../helpers/cli.ts';
import { CLI, workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
let runId: string;

beforeEach(async () => {
  ws = workspace();
  ws.writeDag(
    'ledger',
    `const d = dag({ id: 'ledger' });
     const first = d.task({ id: 'first', run: (ctx) => { ctx.log.info('first ran'); return 1; } });
     d.task({ id: 'last', upstream: [first], run: () => 2 });
     export default d;`,
  );
  runId = /^run (\S+): success$/m.exec((await orchOk(ws, ['run', 'ledger'])).stdout)![1]!;
  // The last connection closed: everything is in orch.db itself.
  for (const f of [`${ws.db}-wal`, `${ws.db}-shm`]) rmSync(f, { force: true });
});
afterEach(() => ws.cleanup());

/** Overwrite pages `from`..`to` (1-based) of the database with pseudo-random bytes, keeping page 1 (the header and schema). */
function damagePages(file: string, from: number, to: number): void {
  const fd = openSync(file, 'r+');
  try {
    const header = Buffer.alloc(100);
    readSync(fd, header, 0, 100, 0);
    const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
    expect(header.readUInt32BE(28), 'pages in the database').toBeGreaterThan(to);
    // Seeded, so every run of the test damages the file the same way.
    const noise = Buffer.concat(Array.from({ length: Math.ceil(((to - from + 1) * pageSize) / 32) }, (_, i) => createHash('sha256').update(`page noise ${i}`).digest()));
    writeSync(fd, noise, 0, (to - from + 1) * pageSize, (from - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}

/** Run `orch` as a user file permissions apply to: root ignores them unless it drops CAP_DAC_OVERRIDE. */
function orchUnprivileged(args: string[]): Promise<CliResult> {
  const argv = [CLI, ...args];
  const [cmd, cmdArgs] =
    process.getuid?.() === 0
      ? ['setpriv', ['--bounding-set', '-dac_override,-dac_read_search', '--inh-caps', '-dac_override,-dac_read_search', process.execPath, ...argv]]
      : [process.execPath, argv];
  return new Promise((resolve) => {
    execFile(cmd, cmdArgs, { cwd: ws.root, env: orchEnv(ws), timeout: PATIENCE_MS }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ code: err ? (typeof code === 'number' ? code : null) : 0, signal: null, stdout, stderr });
    });
  });
}

/** These tests start seven orch processes one after the other: each may take a while on a busy machine. */
const SEVEN_COMMANDS_MS = 7 * PATIENCE_MS;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a database damaged in the middle', () => {
  it('makes every command say which file is damaged and what to do, in one line, exit 2', async () => {
    damagePages(ws.db, 3, 8);
    const commands = [
      ['runs', 'list'],
      ['runs', 'show', 'ledger', runId],
      ['logs', 'ledger', runId, 'first'],
      ['dags', 'list'],
      ['pause', 'ledger'],
      ['trigger', 'ledger'],
      ['tasks', 'mark', 'ledger', runId, 'last', 'failed'],
    ];
    for (const args of commands) {
      const r = await orch(ws, args);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toEqual([
        expect.stringMatching(
          new RegExp(`^error ORCH_DB_CORRUPT: the orch database ${escape(ws.db)} is damaged or not an SQLite database: database disk image is malformed \\(SQLITE_CORRUPT\\)\\. Restore it from a backup`),
        ),
      ]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  }, SEVEN_COMMANDS_MS);
});

describe('a read-only database file', () => {
  it('makes every command that writes say the file cannot be written, in one line, exit 2', async () => {
    chmodSync(ws.db, 0o444);
    const commands = [
      ['pause', 'ledger'],
      ['unpause', 'ledger'],
      ['trigger', 'ledger'],
      ['clear', 'ledger', runId],
      ['tasks', 'mark', 'ledger', runId, 'last', 'failed'],
    ];
    for (const args of commands) {
      const r = await orchUnprivileged(args);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toEqual([
        `error ORCH_DB_UNWRITABLE: cannot write the orch database ${ws.db}: attempt to write a readonly database (SQLITE_READONLY). Free disk space, or make the file and its folder writable for this user (or point ORCH_HOME elsewhere)`,
      ]);
      expect(r.code, args.join(' ')).toBe(2);
    }
    // Reading still works.
    const list = await orchUnprivileged(['runs', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(runId);
  }, SEVEN_COMMANDS_MS);
});
