// MovieLens links.csv → Parquet, for Spark (livy and emr backends).
// Explicit schema, no inference: imdbId stays a string (its leading zeros matter); an empty tmdbId is null, not 0.
// Runs after csv-to-parquet.scala, which defines csvToParquet.
val schema = StructType(Seq(
  StructField("movieId", IntegerType, nullable = false),
  StructField("imdbId", StringType, nullable = true),
  StructField("tmdbId", IntegerType, nullable = true)))

val rows = csvToParquet(schema, "{{ params.source }}/links.csv", "{{ staging_dir }}", "{{ output_dir }}")
println(s"links: wrote $rows rows to {{ output_dir }}")
