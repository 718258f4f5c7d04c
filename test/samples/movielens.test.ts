/**
 * The MovieLens sample generator: MovieLens' exact headers and line endings, every quirk of
 * the real files (docs/movielens.md), the same bytes for the same seed, and the committed
 * data/movielens-sample/ exactly what `orch sample movielens --scale small --seed 25` writes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILES, SCALES, generateMovieLens } from '../../src/samples/movielens.ts';
import { orchOk } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { SAMPLE, parseCsv } from '../helpers/movielens.ts';

const HEADERS: Record<(typeof FILES)[number], string> = {
  'movies.csv': 'movieId,title,genres',
  'ratings.csv': 'userId,movieId,rating,timestamp',
  'tags.csv': 'userId,movieId,tag,timestamp',
  'links.csv': 'movieId,imdbId,tmdbId',
  'genome-scores.csv': 'movieId,tagId,relevance',
  'genome-tags.csv': 'tagId,tag',
};

let tmp: string;
/** seed → folder generated with scale small. */
const generated = new Map<number, string>();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'orch-sample-'));
  for (const [name, seed] of [['a', 25], ['b', 25], ['c', 7]] as const) {
    const dir = join(tmp, name);
    await generateMovieLens(dir, 'small', seed);
    if (!generated.has(seed)) generated.set(seed, dir);
  }
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const text = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
/** Data rows of a file (header dropped), parsed as RFC 4180 independently of the generator. */
const rows = (dir: string, file: string) => parseCsv(text(dir, file)).slice(1);
/** file → SHA-256 of its bytes. */
const bytes = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));

describe('orch sample movielens', () => {
  it("writes the six files with MovieLens' exact headers", () => {
    for (const dir of [generated.get(25)!, SAMPLE]) {
      expect(readdirSync(dir).sort()).toEqual([...FILES].sort());
      for (const file of FILES) expect(text(dir, file).split('\r\n')[0], file).toBe(HEADERS[file]);
    }
  });

  it('ends every line with CRLF, the last one included, and never a bare CR or LF', () => {
    for (const file of FILES) {
      const t = text(generated.get(25)!, file);
      expect(t.endsWith('\r\n'), file).toBe(true);
      expect(/\r(?!\n)|(?<!\r)\n/.test(t), file).toBe(false);
    }
  });

  it('writes the row counts of its scale, and every row has as many fields as the header', () => {
    const small = SCALES.small;
    const dir = generated.get(25)!;
    expect(rows(dir, 'movies.csv')).toHaveLength(small.movies);
    expect(rows(dir, 'links.csv')).toHaveLength(small.movies);
    expect(rows(dir, 'ratings.csv')).toHaveLength(small.ratings);
    expect(rows(dir, 'tags.csv')).toHaveLength(small.tags);
    expect(rows(dir, 'genome-tags.csv')).toHaveLength(small.genomeTags);
    expect(rows(dir, 'genome-scores.csv')).toHaveLength(small.genomeMovies * small.genomeTags);
    for (const file of FILES) {
      const width = HEADERS[file].split(',').length;
      expect(rows(dir, file).filter((r) => r.length !== width), file).toEqual([]);
    }
  });

  it('has every quirk of the real movies.csv: quoted commas, doubled quotes, non-ASCII, trailing spaces, genre lists', () => {
    for (const dir of generated.values()) {
      const raw = text(dir, 'movies.csv');
      expect(raw).toContain(',"American President, The (1995)",');
      expect(raw).toContain(`,"11'09""01 - September 11 (2002)",`);
      const movies = rows(dir, 'movies.csv');
      const titles = movies.map((r) => r[1]!);
      expect(titles).toContain('American President, The (1995)');
      expect(titles).toContain(`11'09"01 - September 11 (2002)`);
      expect(titles.some((t) => /[^\x00-\x7f]/.test(t))).toBe(true);
      expect(titles.some((t) => t.endsWith(' '))).toBe(true);
      expect(titles.some((t) => !/\(\d{4}\)\s*$/.test(t))).toBe(true);
      expect(new Set(titles).size).toBeLessThan(titles.length); // a title repeated under another movieId
      expect(movies.map((r) => r[2])).toContain('(no genres listed)');
      expect(movies.some((r) => r[2]!.includes('|'))).toBe(true);
    }
  });

  it('writes imdbId as a 7-character zero-padded code and leaves some tmdbId empty', () => {
    for (const dir of generated.values()) {
      const links = rows(dir, 'links.csv');
      expect(links.filter((r) => !/^\d{7}$/.test(r[1]!))).toEqual([]);
      expect(links.some((r) => r[1]!.startsWith('0'))).toBe(true);
      expect(links.some((r) => r[2] === '')).toBe(true);
      expect(links.filter((r) => r[2] !== '' && !/^\d+$/.test(r[2]!))).toEqual([]);
    }
  });

  it('writes quoted tags with quotes inside ("""artsy""" is the value "artsy")', () => {
    for (const dir of generated.values()) {
      expect(text(dir, 'tags.csv')).toContain(',"""artsy""",');
      expect(rows(dir, 'tags.csv').map((r) => r[2])).toContain('"artsy"');
    }
  });

  it('keeps numbers in their real ranges: 32-bit ids, half-step ratings, relevance in [0, 1]', () => {
    const dir = generated.get(25)!;
    const int32 = (v: string) => /^\d+$/.test(v) && Number(v) < 2 ** 31;
    const ratings = rows(dir, 'ratings.csv');
    expect(ratings.filter((r) => !int32(r[0]!) || !int32(r[1]!) || !/^\d+$/.test(r[3]!))).toEqual([]);
    expect(new Set(ratings.map((r) => r[2]))).toEqual(new Set(['0.5', '1.0', '1.5', '2.0', '2.5', '3.0', '3.5', '4.0', '4.5', '5.0']));
    const relevance = rows(dir, 'genome-scores.csv').map((r) => r[2]!);
    expect(relevance.filter((v) => !(Number(v) >= 0 && Number(v) <= 1))).toEqual([]);
    expect(relevance.some((v) => v.replace(/^0\./, '').length >= 15)).toBe(true);
  });

  it('writes the same bytes for the same seed, and different ones for another seed', () => {
    expect(bytes(join(tmp, 'b'))).toEqual(bytes(join(tmp, 'a')));
    expect(bytes(join(tmp, 'c'))).not.toEqual(bytes(join(tmp, 'a')));
  });
});

describe('the committed data/movielens-sample', () => {
  let ws: Workspace;
  beforeAll(() => {
    ws = workspace();
  });
  afterAll(() => ws.cleanup());

  it('is exactly what `orch sample movielens --scale small --seed 25` writes', async () => {
    const out = join(ws.root, 'sample');
    const r = await orchOk(ws, ['sample', 'movielens', '--out', out, '--scale', 'small', '--seed', '25']);
    expect(r.stdout).toContain(`wrote MovieLens-shaped data (small) to ${out}`);
    expect(r.stdout).toMatch(/movies\.csv\s+1,000 rows/);
    expect(bytes(out)).toEqual(bytes(SAMPLE));
  });

  it('is under 2 MB', () => {
    const total = readdirSync(SAMPLE).reduce((sum, f) => sum + statSync(join(SAMPLE, f)).size, 0);
    expect(total).toBeLessThan(2 * 1024 * 1024);
  });
});
