#!/usr/bin/env bash
# Scale run: generate N subjects (default 4,000,000, ~101M rows) once, then time as whole
# processes (wall time, peak RSS): `riskwarn features`, the DuckDB reference
# (benches/duckdb_features.py) and riskwarn on the same Parquet files (the tables the reference
# covers, paired), and the nightly `riskwarn run` with
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
# The DuckDB reference computes the features of the event tables it was written for, not those
# of licences, indicators and relations: both read a directory of those tables only (links to
# the same files), alternately, twice, so each pair runs on the machine in the same state.
CORE="$WORK/core-$N"
mkdir -p "$CORE"
for t in subjects inspections penalties complaints product_checks judgments credit_lists annual_reports; do
    ln -sf "$(cd "$DATA" && pwd)/$t.parquet" "$CORE/$t.parquet"
done
if python3 -c 'import duckdb' 2>/dev/null; then
    for i in 1 2; do
        measure "features-core-$i" "$BIN" features --data "$CORE" --as-of "$AS_OF" --quiet --out "$WORK/features-core-$N.parquet"
        measure "duckdb-core-$i" python3 benches/duckdb_features.py "$CORE" "$AS_OF" 2 "$WORK/duckdb-features-$N.parquet"
    done
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
