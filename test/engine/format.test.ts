/** How DuckDB results and errors are shaped into Livy's statement output. */
import { DuckDBDecimalType, DuckDBIntegerType, DuckDBListType, DuckDBVarCharType, INTEGER, VARCHAR, BIGINT } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { describeError, isBlank } from '../../src/engine/duckdb.ts';
import { okOutput, showTable, sparkType } from '../../src/engine/format.ts';

describe('the text/plain table', () => {
  it("is laid out like Spark's show(): borders, right-aligned cells, nulls as null", () => {
    expect(showTable(['id', 'name'], [[1, 'ann'], [22, null]], false)).toBe(
      ['+---+----+', '| id|name|', '+---+----+', '|  1| ann|', '| 22|null|', '+---+----+'].join('\n'),
    );
  });

  it('cuts cells to 20 characters and notes a truncated result', () => {
    const text = showTable(['s'], [['abcdefghijklmnopqrstuvwxyz']], true);
    expect(text).toContain('|abcdefghijklmnopq...|');
    expect(text.endsWith('only showing top 1 rows')).toBe(true);
  });
});

describe('the application/json schema', () => {
  it("names types the way Spark's StructType JSON does", () => {
    expect(sparkType(INTEGER)).toBe('integer');
    expect(sparkType(BIGINT)).toBe('long');
    expect(sparkType(VARCHAR)).toBe('string');
    expect(sparkType(new DuckDBDecimalType(10, 2))).toBe('decimal(10,2)');
    expect(sparkType(new DuckDBListType(DuckDBIntegerType.instance))).toEqual({ type: 'array', elementType: 'integer', containsNull: true });
  });

  it('sends 64-bit integers and decimals as numbers when they fit exactly', () => {
    const out = okOutput(3, { names: ['n', 'big', 'd'], types: [BIGINT, BIGINT, new DuckDBDecimalType(10, 2)], rows: [['5', '123456789012345678901', '2.50']], truncated: false });
    expect(out.data['application/json'].data).toEqual([[5, '123456789012345678901', 2.5]]);
    expect(out.execution_count).toBe(3);
    expect(DuckDBVarCharType.instance.typeId).toBe(VARCHAR.typeId);
  });
});

describe('DuckDB errors as Livy error outputs', () => {
  it('split into ename (after the C++ exception class), evalue and traceback', () => {
    const error = new Error('Catalog Error: Table with name t does not exist!\nDid you mean "x"?\n\nLINE 1: select * from t\n                      ^');
    expect(describeError(error, 'select * from t')).toEqual({
      ename: 'CatalogException',
      evalue: 'Table with name t does not exist!',
      traceback: ['Did you mean "x"?', '', 'LINE 1: select * from t', '                      ^'],
    });
  });

  it('name multi-word and acronym kinds sensibly', () => {
    expect(describeError(new Error('Out of Memory Error: failed'), '').ename).toBe('OutOfMemoryException');
    expect(describeError(new Error('IO Error: No files found'), '').ename).toBe('IOException');
    expect(describeError(new Error('INTERRUPT Error: Interrupted!'), '').ename).toBe('InterruptException');
    expect(describeError(new Error('Failed to extract statements: Parser Error: syntax error'), '').ename).toBe('ParserException');
  });

  it('treat comment-only code as blank', () => {
    expect(isBlank('-- a\n/* b */ ;\n')).toBe(true);
    expect(isBlank('-- a\nSELECT 1')).toBe(false);
  });
});
