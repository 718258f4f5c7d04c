/**
 * Renders `{{ name }}` placeholders in statement code from a fixed set of values. Nothing
 * is evaluated: a placeholder is a dotted path (`params.source`, `xcom.create_cluster.url`)
 * looked up in plain data, so a template can never run code. An unknown name fails
 * before anything is submitted, naming the line.
 */
import { OrchError } from '../errors.ts';

export class TemplateError extends OrchError {
  override readonly retryable = false;
  constructor(
    readonly source: string,
    readonly line: number,
    readonly expression: string,
    detail: string,
  ) {
    super('ORCH_TEMPLATE_UNKNOWN_VARIABLE', `${source}, line ${line}: {{ ${expression} }}: ${detail}`);
  }
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/;

/** Replace every placeholder in `code`; `source` names the file or task in errors. */
export function renderTemplate(code: string, vars: Record<string, unknown>, source: string): string {
  return code.replace(PLACEHOLDER, (_match, expr: string, offset: number) => {
    const line = code.slice(0, offset).split('\n').length;
    if (!PATH.test(expr)) throw new TemplateError(source, line, expr, 'only variable names are allowed (like params.source or xcom.task_id.key)');
    let value: unknown = vars;
    const parts = expr.split('.');
    for (const [i, part] of parts.entries()) {
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) {
        const at = parts.slice(0, i).join('.');
        const known = value !== null && typeof value === 'object' ? Object.keys(value).map((k) => (at ? `${at}.${k}` : k)) : [];
        const here = known.length ? `; known here: ${known.join(', ')}` : at ? `; '${at}' has nothing in it${at === 'params' ? ' (declare params on the DAG, or pass them with --conf)' : ''}` : '';
        throw new TemplateError(source, line, expr, `unknown variable${here}`);
      }
      value = (value as Record<string, unknown>)[part];
    }
    if (value === undefined || value === null) throw new TemplateError(source, line, expr, 'has no value');
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}
