/**
 * A seeded generator of MovieLens-shaped data: the six CSV files with MovieLens' exact
 * headers and every quirk a converter must keep (see docs/movielens.md): CRLF endings,
 * quoted titles with commas and doubled quotes, non-ASCII text, trailing spaces, `|`
 * genres and "(no genres listed)", zero-padded imdbId, empty tmdbId. Files are streamed,
 * so the ml-25m scale does not need its size in memory.
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Random } from './random.ts';

export type Scale = 'small' | 'medium' | '25m';

export interface ScaleSpec {
  movies: number;
  ratings: number;
  tags: number;
  genomeMovies: number;
  genomeTags: number;
}

/** Row counts per scale: small fits the repo (< 2 MB), medium is ml-latest-small, 25m is ml-25m. */
export const SCALES: Record<Scale, ScaleSpec> = {
  small: { movies: 1_000, ratings: 30_000, tags: 1_000, genomeMovies: 100, genomeTags: 200 },
  medium: { movies: 9_742, ratings: 100_836, tags: 3_683, genomeMovies: 1_000, genomeTags: 1_128 },
  '25m': { movies: 62_423, ratings: 25_000_095, tags: 1_093_360, genomeMovies: 13_816, genomeTags: 1_128 },
};

export const FILES = ['movies.csv', 'ratings.csv', 'tags.csv', 'links.csv', 'genome-scores.csv', 'genome-tags.csv'] as const;

const GENRES = ['Action', 'Adventure', 'Animation', 'Children', 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'IMAX', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];
const WORDS = ['Night', 'River', 'Summer', 'Ghost', 'City', 'Heart', 'Road', 'Storm', 'Garden', 'Letter', 'Island', 'Mirror', 'Shadow', 'Train', 'Winter', 'Song', 'Doctor', 'Queen', 'Machine', 'Stranger'];
// Real titles carry these: accents, an en dash, a typographic apostrophe.
const NON_ASCII = ['Amélie', 'Côte d’Azur', 'Mañana', 'Zürich – Berlin', 'Æon Flux', 'Kōkaku', 'Straße', 'L’Été'];
const ARTICLES = ['The', 'A', 'An', 'Les', 'La'];
const TAGS = ['funny', 'dark comedy', 'atmospheric', 'twist ending', 'based on a book', 'visually appealing', 'Oscar (Best Picture)', 'quirky', 'slow', 'sci-fi', 'thought-provoking', 'classic'];

/** Titles exactly as quirky as the real ones; the fixed ones come first so every sample has them. */
const FIXED_TITLES = [
  'American President, The (1995)',
  '11\'09"01 - September 11 (2002)',
  'Amélie (Fabuleux destin d’Amélie Poulain, Le) (2001)',
  'Babylon 5 ',
  'Hamlet (2000)',
  'Hamlet (2000)',
];

/** The CSV field as MovieLens writes it: quoted only when it must be, quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

class CsvWriter {
  private readonly out: WriteStream;
  private buffer: string[] = [];
  private size = 0;
  rows = 0;

  constructor(file: string, header: string) {
    this.out = createWriteStream(file);
    this.buffer.push(`${header}\r\n`);
  }

  async row(fields: (string | number)[]): Promise<void> {
    const line = `${fields.join(',')}\r\n`;
    this.buffer.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size > 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }
}

export interface GenerateResult {
  dir: string;
  rows: Record<(typeof FILES)[number], number>;
}

/** Write the six files into `dir`; returns each file's data-row count. */
export async function generateMovieLens(dir: string, scale: Scale = 'small', seed = 25): Promise<GenerateResult> {
  const spec = SCALES[scale];
  const rnd = new Random(seed);
  mkdirSync(dir, { recursive: true });
  const rows = {} as GenerateResult['rows'];

  const movieIds: number[] = [];
  const movies = new CsvWriter(join(dir, 'movies.csv'), 'movieId,title,genres');
  const links = new CsvWriter(join(dir, 'links.csv'), 'movieId,imdbId,tmdbId');
  let id = 0;
  for (let i = 0; i < spec.movies; i++) {
    id += rnd.chance(0.8) ? 1 : rnd.int(2, 40); // ids have gaps, as in the real files
    movieIds.push(id);
    const title = FIXED_TITLES[i] ?? makeTitle(rnd);
    const genres = rnd.chance(0.02) ? '(no genres listed)' : pickGenres(rnd).join('|');
    await movies.row([id, csvField(title), genres]);
    // Zero-padded 7-character imdbId (some real ones are shorter numbers padded with zeros).
    const imdb = String(rnd.chance(0.3) ? rnd.int(1, 99_999) : rnd.int(100_000, 9_999_999)).padStart(7, '0');
    const tmdb = rnd.chance(0.03) ? '' : String(rnd.int(2, 900_000));
    await links.row([id, imdb, tmdb]);
  }
  await movies.close();
  await links.close();
  rows['movies.csv'] = movies.rows;
  rows['links.csv'] = links.rows;

  const users = Math.max(10, Math.round(spec.ratings / 150));
  const ratings = new CsvWriter(join(dir, 'ratings.csv'), 'userId,movieId,rating,timestamp');
  for (let i = 0; i < spec.ratings; i++) {
    const rating = rnd.int(1, 10) / 2;
    await ratings.row([rnd.int(1, users), rnd.pick(movieIds), rating.toFixed(1), rnd.int(789_652_009, 1_574_327_703)]);
  }
  await ratings.close();
  rows['ratings.csv'] = ratings.rows;

  const tags = new CsvWriter(join(dir, 'tags.csv'), 'userId,movieId,tag,timestamp');
  for (let i = 0; i < spec.tags; i++) {
    let tag = rnd.pick(TAGS);
    if (i === 0) tag = '"artsy"'; // stored as """artsy"""
    else if (i === 1) tag = 'Leonardo DiCaprio, young';
    else if (i === 2) tag = 'Kurosawa – Akira';
    await tags.row([rnd.int(1, users), rnd.pick(movieIds), csvField(tag), rnd.int(1_137_179_352, 1_574_316_696)]);
  }
  await tags.close();
  rows['tags.csv'] = tags.rows;

  const genomeTags = new CsvWriter(join(dir, 'genome-tags.csv'), 'tagId,tag');
  for (let t = 1; t <= spec.genomeTags; t++) {
    const base = TAGS[(t - 1) % TAGS.length]!;
    await genomeTags.row([t, csvField(t <= TAGS.length ? base : `${base} ${Math.ceil(t / TAGS.length)}`)]);
  }
  await genomeTags.close();
  rows['genome-tags.csv'] = genomeTags.rows;

  const scores = new CsvWriter(join(dir, 'genome-scores.csv'), 'movieId,tagId,relevance');
  for (let m = 0; m < spec.genomeMovies; m++) {
    for (let t = 1; t <= spec.genomeTags; t++) {
      // Up to 17 significant digits, as the real relevance values have.
      const relevance = rnd.chance(0.1) ? rnd.next().toPrecision(17).replace(/0+$/, '') : String(Math.round(rnd.next() * 100_000) / 100_000);
      await scores.row([movieIds[m]!, t, relevance]);
    }
  }
  await scores.close();
  rows['genome-scores.csv'] = scores.rows;
  return { dir, rows };
}

function makeTitle(rnd: Random): string {
  let title = `${rnd.pick(WORDS)} ${rnd.chance(0.5) ? rnd.pick(WORDS) : ''}`.trim();
  if (rnd.chance(0.05)) title = rnd.pick(NON_ASCII) + (rnd.chance(0.5) ? ` ${rnd.pick(WORDS)}` : '');
  // "Garden, The": MovieLens moves leading articles to the end, which is why titles have commas.
  if (rnd.chance(0.2)) title = `${title}, ${rnd.pick(ARTICLES)}`;
  if (rnd.chance(0.01)) title = `${title} "${rnd.pick(WORDS)}"`;
  if (!rnd.chance(0.01)) title = `${title} (${rnd.int(1902, 2019)})`;
  if (rnd.chance(0.005)) title = `${title} `;
  return title;
}

function pickGenres(rnd: Random): string[] {
  const n = rnd.int(1, 4);
  const out = new Set<string>();
  while (out.size < n) out.add(rnd.pick(GENRES));
  return [...out].sort();
}
