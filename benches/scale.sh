#!/usr/bin/env bash
# Scale run: generate N subjects (default 4,000,000, ~60M events) once, then time
# `riskwarn features` as a whole process (wall time, peak RSS) and the DuckDB reference
# (benches/duckdb_features.py) on the same Parquet files.
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
