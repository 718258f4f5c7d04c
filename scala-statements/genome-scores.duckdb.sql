-- MovieLens genome-scores.csv → Parquet, for the embedded engine (DuckDB SQL).
-- Explicit schema, no type guessing: relevance is a double in [0, 1].
-- orch swaps {{ staging_dir }} into {{ output_dir }} only after this succeeds.
COPY (
  SELECT movieId, tagId, relevance
  FROM read_csv('{{ params.source }}/genome-scores.csv',
    header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
    columns = {'movieId': 'INTEGER', 'tagId': 'INTEGER', 'relevance': 'DOUBLE'})
) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true);
