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

# Whether two run directories hold the same bytes in every file but the manifest: prints each
# file that differs, then "yes" or "no".
same_run_dir() {
    local same=yes f name
    for f in "$1"/*; do
        name=$(basename "$f")
        [ "$name" = manifest.json ] && continue
        cmp -s "$f" "$2/$name" || { echo "  $name differs" >&2; same=no; }
    done
    echo "$same"
}
