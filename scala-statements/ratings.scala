// MovieLens ratings.csv → Parquet, for Spark (livy and emr backends).
// Explicit schema, no inference: timestamp stays Unix seconds (int64).
// Runs after csv-to-parquet.scala, which defines csvToParquet.
val schema = StructType(Seq(
  StructField("userId", IntegerType, nullable = false),
  StructField("movieId", IntegerType, nullable = false),
  StructField("rating", DoubleType, nullable = false),
  StructField("timestamp", LongType, nullable = false)))

val rows = csvToParquet(schema, "{{ params.source }}/ratings.csv", "{{ staging_dir }}", "{{ output_dir }}")
println(s"ratings: wrote $rows rows to {{ output_dir }}")
