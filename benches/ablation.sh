#!/usr/bin/env bash
# Ablation of the data-source families: generate N subjects (default 200,000) once, then train
# the same model kind (default logistic) with every table, and without each of the families
# `licences`, `indicators` (and `relations` when generated), all on the same files and test date.
# Prints the backtest's AUC, lift at 10 % and the share of positives in the first half of the
# ranking, for all labelled subjects and for random-inspection outcomes (the unbiased ones).
# Usage: benches/ablation.sh [SUBJECTS] [KIND] [WORK_DIR]
set -euo pipefail
N=${1:-200000}
KIND=${2:-logistic}
WORK=${3:-/tmp/riskwarn-ablation}
source "$(dirname "$0")/lib.sh"
variant() { # name, tables left out...
    local name=$1; shift
    local dir="$WORK/$name-$N"
    rm -rf "$dir"; mkdir -p "$dir"
    for f in "$DATA"/*.parquet; do
        local t; t=$(basename "$f" .parquet)
        local skip=0
        for x in "$@"; do [ "$t" = "$x" ] && skip=1; done
        [ $skip = 1 ] || ln -s "$f" "$dir/"
    done
    "$BIN" --json --quiet train --data "$dir" --kind "$KIND" --model-out "$WORK/$name-$N.json" > "$WORK/$name-$N.summary.json"
    python3 - "$name" "$WORK/$name-$N.summary.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
for pop in json.load(open(path))["test"]:
    r = next(r for r in pop["rankings"] if r["ranking"] == "model")
    c = next((r for r in pop["rankings"] if r["ranking"].startswith("ceiling")), None)
    ceiling = f"  ceiling AUC {c['auc']:.3f}" if c else ""
    print(f"{name:<16} {pop['population']:<20} rows {pop['rows']:>7} positives {pop['positives']:>6}  "
          f"AUC {r['auc']:.3f}  lift@10% {r['lift_top_10']:.2f}  first half {r['positives_in_first_half']:.3f}{ceiling}")
PY
}
variant all
variant no-licences licences
variant no-indicators indicators
if [ -f "$DATA/relations.parquet" ]; then
    variant no-relations relations
    variant none licences indicators relations
else
    variant none licences indicators
fi
