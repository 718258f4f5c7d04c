import type { JsonSchema } from './types.ts';

// The trigger form: one field per top-level property of the DAG's params JSON Schema.

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface FieldSpec { name: string; kind: FieldKind; schema: JsonSchema; required: boolean; nullable: boolean }

/** The schema with `null` alternatives stripped (zod's `.nullable()` becomes anyOf/type arrays). */
function unwrap(s: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  if (s.anyOf) {
    const rest = s.anyOf.filter((a) => a.type !== 'null');
    const nullable = rest.length < s.anyOf.length;
    if (rest.length === 1) return { schema: { ...rest[0], ...withoutAnyOf(s) }, nullable };
  }
  if (Array.isArray(s.type)) {
    const rest = s.type.filter((t) => t !== 'null');
    if (rest.length === 1) return { schema: { ...s, type: rest[0] }, nullable: rest.length < s.type.length };
  }
  return { schema: s, nullable: false };
}
function withoutAnyOf(s: JsonSchema): JsonSchema {
  const { anyOf: _a, ...rest } = s;
  return rest;
}

export function fieldsOf(schema: JsonSchema | null): FieldSpec[] {
  if (!schema?.properties) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, raw]) => {
    const { schema: s, nullable } = unwrap(raw);
    const kind: FieldKind = s.enum ? 'enum'
      : s.type === 'string' || s.type === 'number' || s.type === 'integer' || s.type === 'boolean' ? s.type : 'json';
    return { name, kind, schema: s, required: required.has(name), nullable };
  });
}

/** What a form field holds: text for inputs, boolean for checkboxes. */
export type FormValues = Record<string, string | boolean>;

export function initialValues(fields: FieldSpec[]): FormValues {
  const v: FormValues = {};
  for (const f of fields) v[f.name] = toFormValue(f, f.schema.default);
  return v;
}

export function toFormValue(f: FieldSpec, value: unknown): string | boolean {
  if (f.kind === 'boolean') return value === true;
  if (value === undefined || value === null) return '';
  if (f.kind === 'json') return JSON.stringify(value);
  if (f.kind === 'enum') return JSON.stringify(value);
  return String(value);
}

/** Turns form values into the conf and the per-field errors (empty when valid). */
export function toConf(fields: FieldSpec[], values: FormValues): { conf: Record<string, unknown>; errors: Record<string, string> } {
  const conf: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const raw = values[f.name];
    const s = f.schema;
    if (f.kind === 'boolean') { conf[f.name] = raw === true; continue; }
    const text = typeof raw === 'string' ? raw : '';
    // An empty box means "not given" unless it is a string the DAG asked for: then ''
    // is a value and its minLength says whether it is allowed.
    if (text === '' && (f.kind !== 'string' || (!f.required && s.default === undefined))) {
      if (f.required) errors[f.name] = 'Required';
      continue;
    }
    let value: unknown = text;
    if (f.kind === 'number' || f.kind === 'integer') {
      const n = Number(text.trim());
      if (text.trim() === '' || Number.isNaN(n)) { errors[f.name] = 'Must be a number'; continue; }
      if (f.kind === 'integer' && !Number.isInteger(n)) { errors[f.name] = 'Must be a whole number'; continue; }
      value = n;
    } else if (f.kind === 'enum' || f.kind === 'json') {
      try { value = JSON.parse(text); } catch { errors[f.name] = 'Not valid JSON'; continue; }
    }
    const err = check(s, value);
    if (err) errors[f.name] = err;
    else conf[f.name] = value;
  }
  return { conf, errors };
}

function check(s: JsonSchema, v: unknown): string | null {
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) return `Must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) return `Must be ≥ ${s.minimum}`;
    if (s.maximum !== undefined && v > s.maximum) return `Must be ≤ ${s.maximum}`;
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return `Must be > ${s.exclusiveMinimum}`;
    if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) return `Must be < ${s.exclusiveMaximum}`;
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.minLength !== undefined && len < s.minLength) return s.minLength === 1 ? 'Must not be empty (minLength 1)' : `At least ${s.minLength} characters (minLength)`;
    if (s.maxLength !== undefined && len > s.maxLength) return `At most ${s.maxLength} characters (maxLength)`;
    if (s.pattern !== undefined) {
      let re: RegExp | null = null;
      try { re = new RegExp(s.pattern, 'u'); } catch { /* a pattern JS cannot read: the server checks it */ }
      if (re && !re.test(v)) return `Must match ${s.pattern}`;
    }
  }
  return null;
}

/** Client-side check of a raw JSON conf against the same schema (the server checks again). */
export function checkConf(fields: FieldSpec[], conf: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = conf[f.name];
    if (v === undefined) { if (f.required && f.schema.default === undefined) errors[f.name] = 'Required'; continue; }
    if (v === null && f.nullable) continue;
    const t = f.kind === 'enum' || f.kind === 'json' ? null : f.kind;
    if (t === 'integer' ? !Number.isInteger(v) : t === 'number' ? typeof v !== 'number' : t && typeof v !== t) {
      errors[f.name] = `Must be ${t === 'integer' ? 'a whole number' : `a ${t}`}`;
      continue;
    }
    const err = check(f.schema, v);
    if (err) errors[f.name] = err;
  }
  return errors;
}
