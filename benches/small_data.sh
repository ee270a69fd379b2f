#!/usr/bin/env bash
# Small data (issue 17 item 4): generated data with only `subjects` and `inspections` (the other
# tables deleted), at each size in SIZES and for SEEDS generator seeds; trains both kinds on the
# same files and prints, per size, the random-inspection AUC and the share of violations found
# in the first half of the ranking, averaged over the seeds, beside the past-violations ranking.
# One seed's test population is small (about 100 random inspections at 2,000 subjects, so an
# AUC's standard error is about 0.06); the mean over seeds is the figure to read.
# With PEER=/path/to/riskwarn the same files are trained by that binary too, in the same loop.
# Usage: benches/small_data.sh [SIZES] [SEEDS] [WORK_DIR]   (defaults "2000 12000", 8, /tmp/riskwarn-small)
set -euo pipefail
SIZES=${1:-2000 12000}
SEEDS=${2:-8}
WORK=${3:-/tmp/riskwarn-small}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/riskwarn-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/riskwarn"
mkdir -p "$WORK"
for n in $SIZES; do
    for seed in $(seq 1 "$SEEDS"); do
        dir="$WORK/data-$n-$seed"
        if [ ! -f "$dir/inspections.parquet" ]; then
            "$BIN" generate --quiet --subjects "$n" --seed "$seed" --out "$dir" > /dev/null
            find "$dir" -name '*.parquet' ! -name subjects.parquet ! -name inspections.parquet -delete
        fi
        for kind in logistic gbdt; do
            "$BIN" --quiet train --data "$dir" --kind "$kind" --model-out "$WORK/new-$n-$seed-$kind.json" > /dev/null
            if [ -n "${PEER:-}" ]; then
                "$PEER" --quiet train --data "$dir" --kind "$kind" --model-out "$WORK/peer-$n-$seed-$kind.json" > /dev/null
            fi
        done
    done
done
python3 - "$WORK" "$SIZES" <<'PY'
import glob, json, statistics, sys
work, sizes = sys.argv[1], sys.argv[2].split()
def metrics(path):
    pop = next(p for p in json.load(open(path))["backtest"]["test"] if p["population"] == "random inspections")
    by = {r["ranking"]: r for r in pop["rankings"]}
    past = next(r for name, r in by.items() if name.startswith("past violations"))
    return by["model"]["auc"], by["model"]["positives_in_first_half"], past["auc"], past["positives_in_first_half"]
print("binary  size    kind      seeds  AUC    first half   past violations: AUC  first half")
for who in ["new", "peer"]:
    for n in sizes:
        for kind in ["logistic", "gbdt"]:
            files = sorted(glob.glob(f"{work}/{who}-{n}-*-{kind}.json"))
            if not files:
                continue
            m = [metrics(f) for f in files]
            mean = [statistics.mean(x[i] for x in m) for i in range(4)]
            print(f"{who:7s} {n:7s} {kind:9s} {len(files):5d}  {mean[0]:.3f}  {mean[1]:.3f}        {mean[2]:.3f}       {mean[3]:.3f}")
PY
