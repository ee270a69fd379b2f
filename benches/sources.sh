#!/usr/bin/env bash
# What the data-source families cost the feature stage at province scale: generate N subjects
# (default 4,000,000) once, then time `riskwarn features` paired on the same files, alternately
# (a) on the eight original event tables only and (b) on every table, with licences, indicators
# under ten declared indicator features and relations. Prints each lap's feature-stage seconds,
# wall time and peak RSS, and the ratio b / a of the medians.
# Usage: benches/sources.sh [SUBJECTS] [LAPS] [WORK_DIR] [AS_OF]
set -euo pipefail
N=${1:-4000000}
LAPS=${2:-3}
WORK=${3:-/tmp/riskwarn-sources}
AS_OF=${4:-2026-01-01}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/riskwarn-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/riskwarn"
DATA="$WORK/data-$N"
BASE="$WORK/base-$N"
mkdir -p "$WORK"
if [ ! -f "$DATA/relations.parquet" ]; then
    rm -rf "$DATA"
    "$BIN" generate --subjects "$N" --seed 1 --quiet --out "$DATA" > "$WORK/generate-$N.txt"
fi
grep -E "indicators|licences|relations|events" "$WORK/generate-$N.txt" || true
rm -rf "$BASE"; mkdir -p "$BASE"
for f in "$DATA"/*.parquet; do
    case "$(basename "$f" .parquet)" in licences|indicators|relations) ;; *) ln -s "$f" "$BASE/" ;; esac
done
# The committed policy's seven indicator features and three more: ten over five indicators.
cp riskwarn.toml "$WORK/ten.toml"
cat >> "$WORK/ten.toml" <<'TOML'

[[features.indicator]]
name = "ind_social_arrears_max_1095d"
indicator = "social_insurance_arrears"
measure = "max"
window = 1095
direction = "increasing"
zh = "近3年最高社保欠费月数"
en = "most months of social insurance arrears in 3 years"
dimension = "dynamic"

[[features.indicator]]
name = "ind_employees_mean_1095d"
indicator = "employees"
measure = "mean"
window = 1095
zh = "近3年平均参保职工人数"
en = "mean insured employees in 3 years"
dimension = "basic"

[[features.indicator]]
name = "ind_electricity_days_since"
indicator = "electricity"
measure = "days_since"
zh = "距上次用电记录天数"
en = "days since the last electricity record"
dimension = "dynamic"
TOML
lap() { # label, data dir
    local out="$WORK/features-$1.parquet"
    /usr/bin/time -f "%e %M" -o "$WORK/time-$1.txt" \
        "$BIN" --json --quiet features --data "$2" --policy "$WORK/ten.toml" --as-of "$AS_OF" --out "$out" > "$WORK/summary-$1.json"
    python3 - "$1" "$WORK/summary-$1.json" "$WORK/time-$1.txt" <<'PY'
import json, sys
label, summary, timing = sys.argv[1:]
s = json.load(open(summary))
wall, rss = open(timing).read().split()
print(f"{label:<6} features {s['seconds_features']:6.2f} s  ({s['features']} features × {s['rows']} rows)  wall {float(wall):6.1f} s  peak RSS {int(rss) / 1048576:5.2f} GiB")
PY
}
rm -f "$WORK/laps.txt"
for i in $(seq "$LAPS"); do
    lap base "$BASE" | tee -a "$WORK/laps.txt"
    lap all "$DATA" | tee -a "$WORK/laps.txt"
done
python3 - "$WORK/laps.txt" <<'PY'
import re, statistics, sys
laps = {"base": [], "all": []}
for line in open(sys.argv[1]):
    label, secs = line.split()[0], float(re.search(r"features\s+([\d.]+) s", line).group(1))
    laps[label].append(secs)
a, b = statistics.median(laps["base"]), statistics.median(laps["all"])
print(f"feature stage, median of {len(laps['all'])} paired laps: base {a:.2f} s, all {b:.2f} s, ratio {b / a:.2f}")
PY
