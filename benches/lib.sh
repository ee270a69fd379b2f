# Sourced by the bench scripts: the release binary ($BIN) built, and generated data for N
# subjects (seed 1) in $WORK/data-$N ($DATA), made once. Needs N and WORK set; runs from the
# repository root.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/riskwarn-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/riskwarn"
DATA="$WORK/data-$N"
if [ ! -f "$DATA/subjects.parquet" ]; then
    "$BIN" generate --subjects "$N" --seed 1 --quiet --out "$DATA" > /dev/null
fi
