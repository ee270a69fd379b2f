#!/usr/bin/env bash
# The Spark runner against the native run, paired in one go on the same generated files: wall
# time and peak RSS (of the largest single process) of `riskwarn run --buckets B` and of
# `python3 -m riskwarn_spark run` on Spark local[2] with the same number of buckets; the ratio;
# and whether the warning list and plan agree column for column.
# Usage: benches/spark.sh [SUBJECTS] [WORK_DIR] [BUCKETS]
set -euo pipefail
N=${1:-200000}
WORK=${2:-/tmp/riskwarn-scale}
B=${3:-16}
AS_OF=2026-01-01
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/riskwarn-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/riskwarn"
DATA="$WORK/data-$N"
if [ ! -f "$DATA/subjects.parquet" ]; then
    "$BIN" generate --subjects "$N" --seed 1 --quiet --out "$DATA"
fi
echo "input: $(du -sb "$DATA" | cut -f1) bytes of Parquet"
POLICY="$WORK/riskwarn-$N.toml"
python3 benches/scaled_policy.py "$N" "$POLICY"
MODEL="$PWD/models/logistic-sample.json"
rm -rf "$WORK/native-$N" "$WORK/spark-$N"
/usr/bin/time -f "native riskwarn run --buckets $B: wall %e s, peak RSS %M KiB" "$BIN" run --data "$DATA" --policy "$POLICY" \
    --model "$MODEL" --as-of "$AS_OF" --quiet --buckets "$B" --out "$WORK/native-$N"
( cd spark && /usr/bin/time -f "spark local[2], $B buckets: wall %e s, peak RSS %M KiB" python3 -m riskwarn_spark run --master "local[2]" --conf spark.driver.memory=${SPARK_DRIVER_MEMORY:-12g} --conf spark.driver.maxResultSize=0 --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false \
    --data "$DATA" --policy "$POLICY" --model "$MODEL" --as-of "$AS_OF" --buckets "$B" --binary "$BIN" --out "$WORK/spark-$N" >/dev/null )
python3 - "$WORK/native-$N/latest" "$WORK/spark-$N" <<'PY'
import glob, os, sys
import pyarrow.parquet as pq
native, spark_out = sys.argv[1], glob.glob(os.path.join(sys.argv[2], "*-spark-*"))[0]
for name, cols in [("warnings.parquet", ["rank", "uscc", "score", "risk_level", "credit_grade", "reason_text"]), ("plan.parquet", ["uscc", "department", "inclusion_probability", "selected"])]:
    a, b = pq.read_table(os.path.join(native, name)), pq.read_table(os.path.join(spark_out, name))
    same = a.num_rows == b.num_rows and all(a.column(c).to_pylist() == b.column(c).to_pylist() for c in cols)
    print(f"{name}: {a.num_rows} rows; Spark's the same in {', '.join(cols)}: {'yes' if same else 'NO'}")
PY
