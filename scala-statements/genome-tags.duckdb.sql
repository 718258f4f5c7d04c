-- MovieLens genome-tags.csv → Parquet, for the embedded engine (DuckDB SQL).
-- Explicit schema, no type guessing.
-- orch swaps {{ staging_dir }} into {{ output_dir }} only after this succeeds.
COPY (
  SELECT tagId, tag
  FROM read_csv('{{ params.source }}/genome-tags.csv',
    header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
    columns = {'tagId': 'INTEGER', 'tag': 'VARCHAR'})
) TO '{{ staging_dir }}' (FORMAT parquet, PER_THREAD_OUTPUT true);
