// MovieLens movies.csv → Parquet, for Spark (livy and emr backends).
// Explicit schema, no inference: titles keep their commas, doubled quotes, accents and trailing spaces.
// Runs after csv-to-parquet.scala, which defines csvToParquet.
val schema = StructType(Seq(
  StructField("movieId", IntegerType, nullable = false),
  StructField("title", StringType, nullable = true),
  StructField("genres", StringType, nullable = true)))

val rows = csvToParquet(schema, "{{ params.source }}/movies.csv", "{{ staging_dir }}", "{{ output_dir }}")
println(s"movies: wrote $rows rows to {{ output_dir }}")
