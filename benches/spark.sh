#!/usr/bin/env bash
# The Spark runner against the native run, paired in one go on the same generated files: wall
# time and peak RSS (of the largest single process) of `riskwarn run --buckets B` and of
# `python3 -m riskwarn_spark run` on Spark local[2] with the same number of buckets; the ratio;
# and whether the two run directories are byte-identical (every file but the manifest).
# Usage: benches/spark.sh [SUBJECTS] [WORK_DIR] [BUCKETS]
set -euo pipefail
N=${1:-200000}
WORK=${2:-/tmp/riskwarn-scale}
B=${3:-16}
AS_OF=2026-01-01
source "$(dirname "$0")/lib.sh"
echo "input: $(du -sb "$DATA" | cut -f1) bytes of Parquet"
POLICY="$WORK/riskwarn-$N.toml"
python3 benches/scaled_policy.py "$N" "$POLICY"
MODEL="$PWD/models/logistic-sample.json"
rm -rf "$WORK/native-$N" "$WORK/spark-$N"
/usr/bin/time -f "native riskwarn run --buckets $B: wall %e s, peak RSS %M KiB" "$BIN" run --data "$DATA" --policy "$POLICY" \
    --model "$MODEL" --as-of "$AS_OF" --quiet --buckets "$B" --out "$WORK/native-$N"
# Spark's memory is spread over the JVM, its Python workers and the kernel processes: the peak
# of their summed RSS, sampled every second.
( peak=0; while sleep 1; do
    rss=$(ps -eo rss=,args= | awk '/java|riskwarn_spark|pyspark|riskwarn --quiet kernel/ && !/awk/ {s+=$1} END {print s+0}')
    [ "$rss" -gt "$peak" ] && peak=$rss && echo "$peak" > "$WORK/spark-peak-kib"
done ) & SAMPLER=$!
trap 'kill "$SAMPLER" 2>/dev/null || true' EXIT
( cd spark && /usr/bin/time -f "spark local[2], $B buckets: wall %e s, peak RSS of the driver process %M KiB" python3 -m riskwarn_spark run --master "local[2]" --conf spark.driver.memory=${SPARK_DRIVER_MEMORY:-12g} --conf spark.driver.maxResultSize=0 --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false \
    --data "$DATA" --policy "$POLICY" --model "$MODEL" --as-of "$AS_OF" --buckets "$B" --binary "$BIN" --out "$WORK/spark-$N" >/dev/null )
echo "spark: peak summed RSS (JVM + Python workers + kernel calls) $(cat "$WORK/spark-peak-kib") KiB"
echo "Spark's run directory byte-identical to the native run's (all but the manifest): $(same_run_dir "$WORK/native-$N/latest" "$WORK/spark-$N/latest")"
