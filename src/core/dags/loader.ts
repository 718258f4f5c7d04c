/**
 * The DAG bag: finds `*.ts` files in the DAGs folder, imports each (first in a probe
 * worker with a time limit, then for real), validates what they export, and keeps the
 * result per file so that a broken file never hides the others. `refresh()` picks up
 * added, edited and removed files.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';
import { DagImportError, DagValidationError, type OrchError } from '../../errors.ts';
import { isDag } from '../../sdk/index.ts';
import type { DagDefinition } from './definition.ts';
import { validateDag } from './validate.ts';

export interface DagLoadError {
  file: string;
  code: string;
  message: string;
}

interface FileEntry {
  mtimeMs: number;
  size: number;
  dags: DagDefinition[];
  errors: OrchError[];
}

interface ProbeResult {
  file: string;
  ok: boolean;
  dagExports?: string[];
  message?: string;
  stack?: string;
}

export interface DagBagOptions {
  /** How long one file may take to import. Default 30 s. */
  importTimeoutMs?: number;
}

export class DagBag {
  readonly folder: string;
  private readonly importTimeoutMs: number;
  private files = new Map<string, FileEntry>();
  private byId = new Map<string, DagDefinition>();
  private duplicateErrors: OrchError[] = [];

  constructor(folder: string, options: DagBagOptions = {}) {
    this.folder = resolve(folder);
    this.importTimeoutMs = options.importTimeoutMs ?? 30_000;
  }

  /** Re-scan the folder; import new and changed files, forget removed ones. */
  async refresh(): Promise<void> {
    const found = this.scan();
    for (const file of this.files.keys()) if (!found.has(file)) this.files.delete(file);
    const changed = [...found].filter(([file, st]) => {
      const known = this.files.get(file);
      return !known || known.mtimeMs !== st.mtimeMs || known.size !== st.size;
    });
    if (changed.length) {
      const probes = await this.probe(changed.map(([f]) => f));
      for (const [file, st] of changed) this.files.set(file, { ...st, ...(await this.load(file, probes.get(file)!)) });
    }
    this.index();
  }

  get(dagId: string): DagDefinition | undefined {
    return this.byId.get(dagId);
  }

  list(): DagDefinition[] {
    return [...this.byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  ids(): string[] {
    return this.list().map((d) => d.id);
  }

  /** Every load problem, per file. */
  errors(): DagLoadError[] {
    const out: DagLoadError[] = [];
    for (const [file, entry] of this.files) {
      for (const e of entry.errors) out.push({ file: this.rel(file), code: e.code, message: e.message });
    }
    for (const e of this.duplicateErrors) out.push({ file: (e as DagValidationError).file, code: e.code, message: e.message });
    return out.sort((a, b) => a.file.localeCompare(b.file));
  }

  private rel(file: string): string {
    const rel = relative(process.cwd(), file);
    return rel && !rel.startsWith('..') ? rel : file;
  }

  private scan(): Map<string, { mtimeMs: number; size: number }> {
    const out = new Map<string, { mtimeMs: number; size: number }>();
    let names: string[];
    try {
      names = readdirSync(this.folder);
    } catch {
      return out; // A missing folder is an empty bag; `dags list` says where it looked.
    }
    for (const name of names.sort()) {
      if (!name.endsWith('.ts') || name.endsWith('.d.ts') || name.startsWith('.') || name.startsWith('_')) continue;
      const file = join(this.folder, name);
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) out.set(file, { mtimeMs: st.mtimeMs, size: st.size });
    }
    return out;
  }

  /** Import each file in a worker first; a file that hangs gets the worker terminated. */
  private async probe(files: string[]): Promise<Map<string, ProbeResult>> {
    const results = new Map<string, ProbeResult>();
    let worker: Worker | undefined;
    try {
      for (const file of files) {
        worker ??= new Worker(new URL('./import-probe.mjs', import.meta.url));
        const w = worker;
        const result = await new Promise<ProbeResult | 'timeout'>((done) => {
          const timer = setTimeout(() => done('timeout'), this.importTimeoutMs);
          const finish = (r: ProbeResult | 'timeout') => {
            clearTimeout(timer);
            w.off('message', onMessage);
            w.off('error', onError);
            done(r);
          };
          const onMessage = (msg: ProbeResult) => msg.file === file && finish(msg);
          const onError = (err: Error) => finish({ file, ok: false, message: err.message, stack: err.stack ?? '' });
          w.on('message', onMessage);
          w.on('error', onError);
          w.postMessage({ file });
        });
        if (result === 'timeout') {
          results.set(file, { file, ok: false, message: `import did not finish within ${this.importTimeoutMs / 1000} s (does it wait on something at top level?)` });
          await w.terminate();
          worker = undefined;
        } else results.set(file, result);
      }
    } finally {
      await worker?.terminate();
    }
    return results;
  }

  private async load(file: string, probe: ProbeResult): Promise<{ dags: DagDefinition[]; errors: OrchError[] }> {
    const rel = this.rel(file);
    if (!probe.ok) return { dags: [], errors: [new DagImportError(rel, `import failed: ${probe.message}${userFrame(probe.stack, file)}`)] };
    if (!probe.dagExports?.length) {
      return { dags: [], errors: [new DagImportError(rel, 'exports no DAG (export the value returned by dag(), e.g. `export default d`)')] };
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await tsImport(file, import.meta.url)) as Record<string, unknown>;
    } catch (err) {
      return { dags: [], errors: [new DagImportError(rel, `import failed: ${(err as Error).message}`, { cause: err })] };
    }
    const dags: DagDefinition[] = [];
    const errors: OrchError[] = [];
    const seen = new Set<unknown>();
    for (const value of Object.values(mod)) {
      if (!isDag(value) || seen.has(value)) continue;
      seen.add(value);
      const result = validateDag(value, rel, file);
      if (Array.isArray(result)) errors.push(...result);
      else dags.push(result);
    }
    return { dags, errors };
  }

  /** Rebuild the id index; a DAG id defined in two files is an error for both. */
  private index(): void {
    const owners = new Map<string, DagDefinition[]>();
    for (const entry of this.files.values()) for (const d of entry.dags) owners.set(d.id, [...(owners.get(d.id) ?? []), d]);
    this.byId = new Map();
    this.duplicateErrors = [];
    for (const [id, defs] of owners) {
      if (defs.length === 1) this.byId.set(id, defs[0]!);
      else {
        for (const d of defs) {
          const others = defs.filter((o) => o !== d).map((o) => o.file);
          this.duplicateErrors.push(
            new DagValidationError('ORCH_DAG_DUPLICATE_ID', d.file, id, `DAG id '${id}' is also defined in ${others.join(', ')}; ids must be unique`),
          );
        }
      }
    }
  }
}

/** The line of the user's file where an import error happened, if the stack shows it. */
function userFrame(stack: string | undefined, file: string): string {
  const line = stack?.split('\n').find((l) => l.includes(file));
  const m = line && /:(\d+):(\d+)\)?$/.exec(line.trim());
  return m ? ` (line ${m[1]})` : '';
}
