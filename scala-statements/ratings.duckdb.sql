-- MovieLens ratings.csv → Parquet, for the embedded engine (DuckDB SQL).
-- Explicit schema, no type guessing: timestamp stays Unix seconds (int64).
-- orch swaps {{ staging_dir }} into {{ output_dir }} only after this succeeds.
COPY (
  SELECT userId, movieId, rating, timestamp
  FROM read_csv('{{ params.source }}/ratings.csv',
    header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
    columns = {'userId': 'INTEGER', 'movieId': 'INTEGER', 'rating': 'DOUBLE', 'timestamp': 'BIGINT'})
) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true);
