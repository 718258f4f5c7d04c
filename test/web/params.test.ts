import { describe, expect, it } from 'vitest';
import { checkConf, fieldsOf, initialValues, toConf } from '../../web/src/lib/params.ts';

// The trigger form's client-side checks (the server checks again with zod).
const schema = {
  type: 'object',
  properties: {
    output: { type: 'string', minLength: 1, default: 'out/x', description: 'where' },
    tag: { type: 'string', pattern: '^[a-z]+$' },
    n: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
    ratio: { anyOf: [{ type: 'number', exclusiveMaximum: 1 }, { type: 'null' }] },
    mode: { enum: ['fast', 'slow'], default: 'fast' },
    dry: { type: 'boolean', default: false },
  },
  required: ['output', 'n'],
};

describe('trigger form params', () => {
  const fields = fieldsOf(schema);

  it('makes one field per property, pre-filled with its default', () => {
    expect(fields.map((f) => [f.name, f.kind])).toEqual([['output', 'string'], ['tag', 'string'], ['n', 'integer'], ['ratio', 'number'], ['mode', 'enum'], ['dry', 'boolean']]);
    const v = initialValues(fields);
    expect(toConf(fields, v)).toEqual({ conf: { output: 'out/x', n: 3, mode: 'fast', dry: false }, errors: {} });
  });

  it('names the rule a value breaks, per field', () => {
    const v = { ...initialValues(fields), output: '', tag: 'A1', n: '2.5', ratio: '1', mode: '"other"' };
    const { errors } = toConf(fields, v);
    expect(errors.output).toMatch(/minLength/);
    expect(errors.tag).toMatch(/match/);
    expect(errors.n).toMatch(/whole/);
    expect(errors.ratio).toMatch(/< 1/);
    expect(errors.mode).toMatch(/one of/);
    expect(toConf(fields, { ...v, n: '11' }).errors.n).toMatch(/≤ 10/);
    expect(toConf(fields, { ...v, n: '' }).errors.n).toBe('Required');
  });

  it('checks a raw JSON conf the same way', () => {
    expect(checkConf(fields, { output: 'a', n: 2 })).toEqual({});
    expect(checkConf(fields, { output: 5, n: 'x', ratio: null })).toEqual({ output: 'Must be a string', n: 'Must be a whole number' });
  });
});
