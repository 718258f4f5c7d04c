// MovieLens tags.csv → Parquet, for Spark (livy and emr backends).
// Explicit schema, no inference: quoted tags keep their quotes ("""artsy""" is the value "artsy").
import org.apache.hadoop.fs.Path
import org.apache.spark.sql.types._

val schema = StructType(Seq(
  StructField("userId", IntegerType, nullable = false),
  StructField("movieId", IntegerType, nullable = false),
  StructField("tag", StringType, nullable = true),
  StructField("timestamp", LongType, nullable = false)))

val df = spark.read
  .schema(schema)
  .option("header", "true")
  .option("quote", "\"")
  .option("escape", "\"")
  .option("mode", "FAILFAST")
  .csv("{{ params.source }}/tags.csv")

// Write aside, then swap: a failed or cancelled run never leaves a half-written dataset
// where a good one stood.
df.write.mode("overwrite").parquet("{{ staging_dir }}")
val target = new Path("{{ output_dir }}")
val fs = target.getFileSystem(spark.sparkContext.hadoopConfiguration)
val previous = new Path("{{ output_dir }}.old-{{ try_number }}")
if (fs.exists(target)) fs.rename(target, previous)
fs.rename(new Path("{{ staging_dir }}"), target)
fs.delete(previous, true)
println(s"tags: wrote ${spark.read.parquet("{{ output_dir }}").count()} rows to {{ output_dir }}")
