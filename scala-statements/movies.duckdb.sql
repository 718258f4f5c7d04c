-- MovieLens movies.csv → Parquet, for the embedded engine (DuckDB SQL).
-- Explicit schema, no type guessing: titles keep their commas, doubled quotes, accents and trailing spaces.
-- orch swaps {{ staging_dir }} into {{ output_dir }} only after this succeeds.
COPY (
  SELECT movieId, title, genres
  FROM read_csv('{{ params.source }}/movies.csv',
    header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
    columns = {'movieId': 'INTEGER', 'title': 'VARCHAR', 'genres': 'VARCHAR'})
) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true);
