"""Spark MLlib K-Means on deepclust's Parquet export; the cluster ids go back as CSV for
`deepclust import-clusters`. Runs Spark in local mode (all cores of this machine); point
`--master` at a cluster to go beyond one machine.

    deepclust organize ~/Pictures --out ~/Pictures-organized --by date,content
    deepclust export ~/Pictures-organized --parquet /tmp/photos-export
    python3 recipes/spark_kmeans.py --parquet /tmp/photos-export --k 12 --out /tmp/spark-clusters
    deepclust import-clusters /tmp/spark-clusters --out ~/Pictures-organized --name spark-kmeans

Needs Java (Debian: default-jre) and PySpark (pip install pyspark).
"""
import argparse
import time

from pyspark.ml.clustering import KMeans
from pyspark.ml.functions import array_to_vector
from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parquet", required=True, help="the folder `deepclust export --parquet` wrote")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-iter", type=int, default=50)
    ap.add_argument("--out", required=True, help="folder for the CSV of path,cluster")
    ap.add_argument("--master", default="local[*]")
    args = ap.parse_args()

    spark = (
        SparkSession.builder.master(args.master)
        .appName("deepclust-kmeans")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter()
    photos = spark.read.parquet(args.parquet)
    # A catalogue may hold embeddings of several embedders (the statistics, a model):
    # cluster the most common one, they are not comparable.
    embedder = photos.groupBy("embedder").count().orderBy(F.desc("count")).first()["embedder"]
    rows = photos.filter(F.col("embedder") == embedder).filter(F.col("dim") > 0)
    rows = rows.withColumn("features", array_to_vector("embedding")).cache()
    n = rows.count()
    model = KMeans(k=args.k, seed=args.seed, maxIter=args.max_iter, featuresCol="features").fit(rows)
    clusters = model.transform(rows).select("path", F.col("prediction").alias("cluster"))
    # RFC 4180 quoting (a quote in a path is doubled), one file.
    clusters.coalesce(1).write.mode("overwrite").option("header", True).option("escape", '"').csv(args.out)
    seconds = time.perf_counter() - started
    sizes = sorted(r["count"] for r in clusters.groupBy("cluster").count().collect())
    print(
        f"Spark {spark.version} KMeans k={args.k} on {n} photos ({embedder}, "
        f"{rows.first()['dim']}-d) in {seconds:.1f} s; cluster sizes {sizes}; wrote {args.out}"
    )
    spark.stop()


if __name__ == "__main__":
    main()
