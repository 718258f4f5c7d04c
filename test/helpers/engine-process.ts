/**
 * Runs the engine as a separate process — as the `embedded` backend does — for tests that
 * must kill it (SIGKILL mid-statement) or check its signal handling.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '../..');

export interface EngineProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  /** Send a signal and wait for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Spawn `node --import tsx src/engine/main.ts …` and wait for its listening line. */
export async function startEngineProcess(args: string[] = [], timeoutMs = 30_000): Promise<EngineProcess> {
  const home = mkdtempSync(join(tmpdir(), 'orch-engine-proc-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/engine/main.ts', '--port', '0', '--home', home, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((done) => child.on('exit', (code, signal) => done(code ?? signal ?? -1)));

  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`engine did not start within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
    lines.on('line', (line) => {
      const match = /^orch engine listening on (http:\/\/\S+)$/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        done(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`engine exited (${code}) before listening; stderr:\n${stderr}`));
    });
  });

  return {
    url,
    child,
    stderr: () => stderr,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
