-- MovieLens tags.csv → Parquet, for the embedded engine (DuckDB SQL).
-- Explicit schema, no type guessing: quoted tags keep their quotes ("""artsy""" is the value "artsy").
-- orch swaps {{ staging_dir }} into {{ output_dir }} only after this succeeds.
COPY (
  SELECT userId, movieId, tag, timestamp
  FROM read_csv('{{ params.source }}/tags.csv',
    header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
    columns = {'userId': 'INTEGER', 'movieId': 'INTEGER', 'tag': 'VARCHAR', 'timestamp': 'BIGINT'})
) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true);
