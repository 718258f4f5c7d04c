/**
 * The DAG bag: finds `*.ts` files in the DAGs folder, imports each (first in a probe
 * worker with a time limit, then for real), validates what they export, and keeps the
 * result per file so that a broken file never hides the others. `refresh()` picks up
 * added, edited and removed files. Files are compiled once (see module-hooks.mjs), and
 * the real import of one file overlaps the probe of the next.
 */
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, relative, resolve } from 'node:path';
import { DagImportError, DagValidationError, type OrchError } from '../../errors.ts';
import { isDag } from '../../sdk/index.ts';
import type { DagDefinition } from './definition.ts';
import { ImportProber, type ProbeResult } from './probe.ts';
import { validateDag } from './validate.ts';

const { importDagFile } = createRequire(import.meta.url)('./dag-modules.cjs') as {
  importDagFile(file: string, load: number): Promise<Record<string, unknown>>;
};

/** Numbers each import of changed files, so an edited file (and its helpers) is loaded afresh. */
let loads = 0;

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

export interface DagBagOptions {
  /** How long a file may take to import (Airflow's dagbag_import_timeout). Default 30 s. */
  importTimeoutMs?: number;
  /** Limits for single files, by file name in the folder (`{ 'train.ts': 120_000 }`). */
  importTimeoutsMs?: Record<string, number>;
  /**
   * Keep the import worker between refreshes, for a process that rescans the folder (the
   * scheduler, the web server): an edited file then reloads without a worker start-up.
   * close() ends it.
   */
  keepImportWorker?: boolean;
}

export class DagBag {
  readonly folder: string;
  private readonly importTimeoutMs: number;
  private readonly importTimeoutsMs: Record<string, number>;
  private files = new Map<string, FileEntry>();
  private byId = new Map<string, DagDefinition>();
  private duplicateErrors: OrchError[] = [];
  private readonly prober: ImportProber;

  constructor(folder: string, options: DagBagOptions = {}) {
    this.folder = resolve(folder);
    this.importTimeoutMs = options.importTimeoutMs ?? 30_000;
    this.importTimeoutsMs = options.importTimeoutsMs ?? {};
    this.prober = new ImportProber(options.keepImportWorker);
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
      const load = ++loads;
      const probes = this.prober.probeAll(changed.map(([f]) => f), (f) => this.timeoutFor(f), load);
      for (const [file, st] of changed) this.files.set(file, { ...st, ...(await this.load(file, await probes.get(file)!, load)) });
    }
    this.index();
  }

  /** End the import worker kept by `keepImportWorker`. */
  close(): Promise<void> {
    return this.prober.close();
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

  private timeoutFor(file: string): number {
    return this.importTimeoutsMs[basename(file)] ?? this.importTimeoutMs;
  }

  private async load(file: string, probe: ProbeResult, load: number): Promise<{ dags: DagDefinition[]; errors: OrchError[] }> {
    const rel = this.rel(file);
    if (probe.timedOut) {
      const raise = `"dagImportTimeouts": { "${basename(file)}": <seconds> } or "dagImportTimeout" in orch.config.json`;
      const detail = `import did not finish within ${this.timeoutFor(file) / 1000} s (does it wait on something at top level?); if it is only slow, raise ${raise}`;
      return { dags: [], errors: [new DagImportError(rel, detail)] };
    }
    if (!probe.ok) return { dags: [], errors: [new DagImportError(rel, `import failed: ${probe.message}${userFrame(probe.stack, file)}`)] };
    if (!probe.dagExports?.length) {
      return { dags: [], errors: [new DagImportError(rel, 'exports no DAG (export the value returned by dag(), e.g. `export default d`)')] };
    }
    let mod: Record<string, unknown>;
    try {
      mod = await importDagFile(file, load);
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
