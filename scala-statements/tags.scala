// MovieLens tags.csv → Parquet, for Spark (livy and emr backends).
// Explicit schema, no inference: quoted tags keep their quotes ("""artsy""" is the value "artsy").
// Runs after csv-to-parquet.scala, which defines csvToParquet.
val schema = StructType(Seq(
  StructField("userId", IntegerType, nullable = false),
  StructField("movieId", IntegerType, nullable = false),
  StructField("tag", StringType, nullable = true),
  StructField("timestamp", LongType, nullable = false)))

val rows = csvToParquet(schema, "{{ params.source }}/tags.csv", "{{ staging_dir }}", "{{ output_dir }}")
println(s"tags: wrote $rows rows to {{ output_dir }}")
