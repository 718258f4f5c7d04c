// Node module resolution hook for DAG files, installed by dag-modules.cjs so that it runs
// before tsx's own resolve.
//
// - `orch/sdk` is the SDK of the orch that loads the file, from any folder: a team's DAG
//   repo has no orch in its node_modules, and when it has one (for the editor), the DAG
//   must still get the module instance orch itself uses, not a second copy.
// - A DAG file loaded again after an edit carries `?orch-dag-load=<n>`; the user modules it
//   imports get the same mark, so an edited helper is loaded again too. Packages and
//   orch's own source are never marked: they stay one instance per process.
//
// The same function serves module.register (asynchronous: nextResolve returns a promise)
// and module.registerHooks (synchronous), whichever this Node offers tsx.

const LOAD_MARK = 'orch-dag-load';

let sdkUrl = '';
let orchSource = '';

export function initialize(data) {
  sdkUrl = data.sdkUrl;
  orchSource = data.orchSource;
}

export function resolve(specifier, context, nextResolve) {
  const mark = markOf(specifier) ?? markOf(context.parentURL);
  // tsx and Node resolve the plain file (a query would send tsx down its own paths for
  // CommonJS files); the mark is put back on the result.
  const ctx = mark ? { ...context, parentURL: unmarked(context.parentURL) } : context;
  if (specifier === 'orch/sdk') return nextResolve(sdkUrl, ctx);
  const resolved = nextResolve(mark ? unmarked(specifier) : specifier, ctx);
  if (!mark) return resolved;
  return typeof resolved?.then === 'function' ? resolved.then((r) => marked(r, mark)) : marked(resolved, mark);
}

function marked(resolved, mark) {
  if (!resolved.url.startsWith('file:') || resolved.url.includes('/node_modules/') || resolved.url.startsWith(orchSource)) return resolved;
  const url = new URL(resolved.url);
  url.searchParams.set(LOAD_MARK, mark);
  // DAG files are ES modules (import/export, top-level await) even in a folder whose
  // package.json does not say "type": "module", or that has none.
  const format = resolved.format === 'commonjs' && /\.m?ts$/.test(url.pathname) ? 'module' : resolved.format;
  return { ...resolved, url: url.href, format };
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
