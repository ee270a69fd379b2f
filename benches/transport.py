"""What the binary transport of the Spark runner costs per kernel call, against the call.

For one data set split into B buckets (as the Spark runner splits it), each bucket's
``kernel partials`` call is timed whole through ``BinaryKernel``, beside the parts an
in-process (PyO3) call would not pay: the process start with the policy read (an empty
bucket's call) and writing the bucket's tables as IPC files. Usage:
python3 benches/transport.py DATA_DIR [BUCKETS] (from the repository root).
"""

import os
import statistics
import sys
import tempfile
import time
import zlib

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "spark"))
from riskwarn_spark.kernel import BinaryKernel, _write  # noqa: E402

data, buckets = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 16
binary = os.environ.get("RISKWARN_BIN") or os.path.expanduser("~/.cache/riskwarn-target/release/riskwarn")
kernel = BinaryKernel(binary=binary, policy="riskwarn.toml", model="models/logistic-sample.json", as_of="2026-01-01")
keyed = [t["name"] for t in kernel.contract() if t["by_subject"]]
tables = {}
for name in keyed:
    path = os.path.join(data, f"{name}.parquet")
    if os.path.exists(path):
        t = pq.read_table(path)
        t = t.append_column("__row", pa.array(range(1, t.num_rows + 1), pa.int64())).append_column("__file", pa.array([f"{name}.parquet"] * t.num_rows, pa.string()))
        tables[name] = t



split = {name: (t, pa.array([zlib.crc32((u or "").encode()) % buckets for u in t.column("uscc").to_pylist()])) for name, t in tables.items()}
empty = {name: t.schema.empty_table() for name, t in tables.items()}
t0 = time.perf_counter()
for _ in range(5):
    kernel.partials(empty, None)
start = (time.perf_counter() - t0) / 5
calls, writes = [], []
for b in range(buckets):
    part = {name: t.filter(pc.equal(k, b)) for name, (t, k) in split.items()}
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        for name, t in part.items():
            _write(t, os.path.join(d, f"{name}.arrow"))
        writes.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    kernel.partials(part, None)
    calls.append(time.perf_counter() - t0)
call, write = statistics.median(calls), statistics.median(writes)
print(f"{buckets} buckets of {data}: kernel partials per bucket {call * 1000:.0f} ms (median); process start + policy read (empty bucket) {start * 1000:.0f} ms; writing the bucket's tables as IPC {write * 1000:.0f} ms")
print(f"what an in-process call would save: at most {(start + write) / call:.1%} of the call")
