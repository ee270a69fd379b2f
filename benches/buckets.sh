#!/usr/bin/env bash
# Bucketed runs at scale: the nightly `riskwarn run` on the same generated data with 1 bucket
# and with more (default 1, 4 and 16), paired in one go: wall time and peak RSS of each whole
# process, the spill written, and whether every output file (all but the manifest) is
# byte-identical to the one-bucket run's.
# Usage: benches/buckets.sh [SUBJECTS] [WORK_DIR] [BUCKETS...]
set -euo pipefail
N=${1:-4000000}
WORK=${2:-/tmp/riskwarn-scale}
shift 2 2>/dev/null || shift $#
BUCKETS=("${@:-1 4 16}")
read -r -a BUCKETS <<<"${BUCKETS[*]}"
AS_OF=2026-01-01
source "$(dirname "$0")/lib.sh"
echo "input: $(du -sb "$DATA" | cut -f1) bytes of Parquet"
python3 benches/scaled_policy.py "$N" "$WORK/riskwarn-$N.toml"
for b in "${BUCKETS[@]}"; do
    rm -rf "$WORK/out-b$b"
    /usr/bin/time -f "buckets $b: wall %e s, peak RSS %M KiB" "$BIN" run --data "$DATA" --policy "$WORK/riskwarn-$N.toml" \
        --as-of "$AS_OF" --quiet --buckets "$b" --out "$WORK/out-b$b"
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); t=m["timings_seconds"]; print("  spill", m["spill_bytes"], "bytes; stages (s):", {k: round(v, 1) for k, v in t.items() if k != "files"})' "$WORK/out-b$b/latest/manifest.json"
done
first="$WORK/out-b${BUCKETS[0]}/latest"
for b in "${BUCKETS[@]:1}"; do
    echo "$b buckets: outputs byte-identical to ${BUCKETS[0]} bucket(s): $(same_run_dir "$first" "$WORK/out-b$b/latest")"
done
