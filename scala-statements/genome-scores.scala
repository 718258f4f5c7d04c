// MovieLens genome-scores.csv → Parquet, for Spark (livy and emr backends).
// Explicit schema, no inference: relevance is a double in [0, 1].
// Runs after csv-to-parquet.scala, which defines csvToParquet.
val schema = StructType(Seq(
  StructField("movieId", IntegerType, nullable = false),
  StructField("tagId", IntegerType, nullable = false),
  StructField("relevance", DoubleType, nullable = false)))

val rows = csvToParquet(schema, "{{ params.source }}/genome-scores.csv", "{{ staging_dir }}", "{{ output_dir }}")
println(s"genome-scores: wrote $rows rows to {{ output_dir }}")
