// MovieLens genome-tags.csv → Parquet, for Spark (livy and emr backends).
// Explicit schema, no inference.
// Runs after csv-to-parquet.scala, which defines csvToParquet.
val schema = StructType(Seq(
  StructField("tagId", IntegerType, nullable = false),
  StructField("tag", StringType, nullable = true)))

val rows = csvToParquet(schema, "{{ params.source }}/genome-tags.csv", "{{ staging_dir }}", "{{ output_dir }}")
println(s"genome-tags: wrote $rows rows to {{ output_dir }}")
