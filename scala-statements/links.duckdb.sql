-- MovieLens links.csv → Parquet, for the embedded engine (DuckDB SQL).
-- Explicit schema, no type guessing: imdbId stays a string (its leading zeros matter); an empty tmdbId is null, not 0.
-- orch swaps {{ staging_dir }} into {{ output_dir }} only after this succeeds.
COPY (
  SELECT movieId, imdbId, tmdbId
  FROM read_csv('{{ params.source }}/links.csv',
    header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
    columns = {'movieId': 'INTEGER', 'imdbId': 'VARCHAR', 'tmdbId': 'INTEGER'})
) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true);
