// Shared by every <dataset>.scala: read a MovieLens CSV with an explicit schema and write it
// as Parquet, aside first and then swapped into place, so a failed or cancelled run never
// leaves a half-written dataset where a good one stood. orch sends this file ahead of the
// dataset's own file in the same statement.
import org.apache.hadoop.fs.Path
import org.apache.spark.sql.types._

def csvToParquet(schema: StructType, csv: String, staging: String, target: String): Long = {
  val df = spark.read
    .schema(schema)
    .option("header", "true")
    .option("quote", "\"")
    .option("escape", "\"")
    .option("mode", "FAILFAST") // a malformed row fails the task instead of turning into nulls
    .csv(csv)
  df.write.mode("overwrite").parquet(staging)
  val out = new Path(target)
  val fs = out.getFileSystem(spark.sparkContext.hadoopConfiguration)
  val previous = new Path(target + ".old-" + System.currentTimeMillis)
  if (fs.exists(out)) fs.rename(out, previous)
  fs.rename(new Path(staging), out)
  fs.delete(previous, true)
  spark.read.parquet(target).count()
}
