#!/usr/bin/env bash
# Scale run: generate N subjects (default 4,000,000, ~60M events) once, then time as whole
# processes (wall time, peak RSS): `riskwarn features`, the DuckDB reference
# (benches/duckdb_features.py) on the same Parquet files, and the nightly `riskwarn run` with
# riskwarn.toml's department capacities scaled to N (its manifest gives the time per stage).
# Usage: benches/scale.sh [SUBJECTS] [WORK_DIR] [AS_OF]
set -euo pipefail
N=${1:-4000000}
WORK=${2:-/tmp/riskwarn-scale}
AS_OF=${3:-2026-01-01}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/riskwarn-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/riskwarn"
DATA="$WORK/data-$N"
measure() { # label, command...
    local label=$1; shift
    /usr/bin/time -f "$label: wall %e s, peak RSS %M KiB" "$@" 2> >(grep -E "^$label:|error" >&2)
}
if [ ! -f "$DATA/subjects.parquet" ]; then
    measure generate "$BIN" generate --subjects "$N" --seed 1 --quiet --out "$DATA"
fi
du -sh "$DATA"
measure features "$BIN" features --data "$DATA" --as-of "$AS_OF" --quiet --out "$WORK/features-$N.parquet"
if python3 -c 'import duckdb' 2>/dev/null; then
    measure duckdb python3 benches/duckdb_features.py "$DATA" "$AS_OF" 2 "$WORK/duckdb-features-$N.parquet"
else
    echo "duckdb not installed (pip install duckdb): reference skipped"
fi
# The nightly job: capacities scaled from the sample's 20,000 subjects to N.
python3 benches/scaled_policy.py "$N" "$WORK/riskwarn-$N.toml"
rm -rf "$WORK/out-$N"
measure run "$BIN" run --data "$DATA" --policy "$WORK/riskwarn-$N.toml" --as-of "$AS_OF" --quiet --out "$WORK/out-$N"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("run stages (s):", {k: round(v, 2) for k, v in m["timings_seconds"].items() if k != "files"}); print("files (s):", [(f, round(t, 2)) for f, t in m["timings_seconds"]["files"]])' "$WORK/out-$N/latest/manifest.json"
# Optional (RISKWARN_SCALE_TRAIN=1): training on 8 quarterly dates + calibration + test date,
# both kinds; the summary prints the backtest with the oracle and the information ceiling.
if [ "${RISKWARN_SCALE_TRAIN:-0}" = 1 ]; then
    for kind in logistic gbdt; do
        measure "train-$kind" "$BIN" train --kind "$kind" --data "$DATA" --model-out "$WORK/$kind-$N.json" | grep -v "^direction"
    done
fi
