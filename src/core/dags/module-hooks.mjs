// Node module hooks for orch's own TypeScript and for DAG files, installed by
// dag-modules.cjs. Plain JavaScript: they are what makes TypeScript loadable.
//
// - load: a `.ts` file is compiled by esbuild (types stripped, source map inline) and the
//   result kept in a cache folder under orch's home, keyed by a hash of the compiler, the
//   path and the source. A file is compiled once; every later start reads the cached
//   output and does not even load esbuild.
// - resolve: `orch/sdk` is the SDK of the orch that loads the file, from any folder: a
//   team's DAG repo has no orch in its node_modules, and when it has one (for the editor),
//   the DAG must still get the module instance orch itself uses, not a second copy.
//   Relative imports from TypeScript may name `./helpers.js`, `./helpers` or a folder, as
//   TypeScript allows; they resolve to the `.ts` file that exists.
// - A DAG file loaded again after an edit carries `?orch-dag-load=<n>`; the user modules it
//   imports get the same mark, so an edited helper is loaded again too. Packages and orch's
//   own source are never marked: they stay one instance per process.
//
// The same functions serve module.register (asynchronous: next* return promises) and
// module.registerHooks (synchronous), whichever this Node offers.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

const LOAD_MARK = 'orch-dag-load';
const TS_FILE = /\.m?ts$/;
/** Bumped when the compile options change, so old cache entries are not reused. */
const COMPILE_FORMAT = '1';
const COMPILE_OPTIONS = {
  loader: 'ts',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  // orch targets ES2023, where class fields are defined, not assigned.
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
};

const require = createRequire(import.meta.url);

let sdkUrl = '';
let orchSource = '';
let cacheDir = '';
let synchronous = true;
let cacheReady = false;
let compilerId;
let esbuild;

export function initialize(data) {
  sdkUrl = data.sdkUrl;
  orchSource = data.orchSource;
  cacheDir = data.cacheDir;
  synchronous = data.synchronous;
}

export function resolve(specifier, context, nextResolve) {
  const mark = markOf(specifier) ?? markOf(context.parentURL);
  // Node resolves the plain file; the mark is put back on the result.
  const ctx = mark ? { ...context, parentURL: unmarked(context.parentURL) } : context;
  if (specifier === 'orch/sdk') return nextResolve(sdkUrl, ctx);
  const resolved = nextResolve(tsSpecifier(mark ? unmarked(specifier) : specifier, ctx.parentURL), ctx);
  if (!mark) return resolved;
  return typeof resolved?.then === 'function' ? resolved.then((r) => marked(r, mark)) : marked(resolved, mark);
}

export function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS_FILE.test(new URL(url).pathname)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  const key = cacheKey(file, source);
  const cached = readCache(key);
  if (cached !== undefined) return loaded(cached);
  if (synchronous) return loaded(store(key, compiler().transformSync(source, { ...COMPILE_OPTIONS, sourcefile: file }).code));
  // On the hooks thread: the asynchronous API keeps one esbuild process for all files.
  return compiler()
    .transform(source, { ...COMPILE_OPTIONS, sourcefile: file })
    .then((out) => loaded(store(key, out.code)));
}

function loaded(source) {
  // TypeScript files are ES modules (import/export, top-level await) even in a folder whose
  // package.json does not say "type": "module", or that has none.
  return { format: 'module', source, shortCircuit: true };
}

/** `./x.js`, `./x` or `./dir` written in a TypeScript file, as the `.ts` file that exists. */
function tsSpecifier(specifier, parentURL) {
  if (!parentURL?.startsWith('file:') || !TS_FILE.test(new URL(parentURL).pathname)) return specifier;
  if (!/^\.{1,2}\//.test(specifier) && !specifier.startsWith('/')) return specifier;
  const target = new URL(specifier, parentURL);
  if (isFile(target)) return specifier;
  const candidates = specifier.endsWith('.js')
    ? [specifier.slice(0, -3) + '.ts']
    : [`${specifier}.ts`, `${specifier.replace(/\/$/, '')}/index.ts`];
  return candidates.find((c) => isFile(new URL(c, parentURL))) ?? specifier;
}

function isFile(url) {
  return statSync(url, { throwIfNoEntry: false })?.isFile() === true;
}

function compiler() {
  esbuild ??= require('esbuild');
  return esbuild;
}

function cacheKey(file, source) {
  // The compiler's version from its package.json: loading esbuild itself costs more than the cache saves.
  compilerId ??= `${COMPILE_FORMAT}:${require('esbuild/package.json').version}`;
  return createHash('sha256').update(`${compilerId}\0${file}\0`).update(source).digest('hex');
}

function readCache(key) {
  try {
    return readFileSync(join(cacheDir, `${key}.mjs`), 'utf8');
  } catch {
    return undefined;
  }
}

/** Keep compiled output for the next start; a cache that cannot be written only costs speed. */
function store(key, code) {
  try {
    if (!cacheReady) mkdirSync(cacheDir, { recursive: true });
    cacheReady = true;
    // Written aside and renamed: a reader in another process sees the whole file or none.
    const temp = join(cacheDir, `${key}.${process.pid}-${threadId}.tmp`);
    writeFileSync(temp, code);
    renameSync(temp, join(cacheDir, `${key}.mjs`));
  } catch {
    // Read-only home, full disk: compile again next time.
  }
  return code;
}

function marked(resolved, mark) {
  if (!resolved.url.startsWith('file:') || resolved.url.includes('/node_modules/') || resolved.url.startsWith(orchSource)) return resolved;
  const url = new URL(resolved.url);
  url.searchParams.set(LOAD_MARK, mark);
  return { ...resolved, url: url.href };
}

function markOf(url) {
  return url?.includes(LOAD_MARK) && URL.canParse(url) ? new URL(url).searchParams.get(LOAD_MARK) : null;
}

function unmarked(url) {
  if (!url?.includes(LOAD_MARK) || !URL.canParse(url)) return url;
  const u = new URL(url);
  u.searchParams.delete(LOAD_MARK);
  return u.href;
}
