"""The Spark runner on Spark local mode against ``riskwarn run`` on the same files.

Needs the riskwarn binary (``RISKWARN_BIN``, default the release build in ``CARGO_TARGET_DIR``),
pyspark and Java; run from the repository root: ``python3 -m pytest spark/tests``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "spark"))

from riskwarn_spark import Options, run  # noqa: E402
from riskwarn_spark.__main__ import kernel_failure  # noqa: E402

BIN = os.environ.get("RISKWARN_BIN") or os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/riskwarn-target")), "release", "riskwarn")
SAMPLE = os.path.join(ROOT, "data", "sample")
POLICY = os.path.join(ROOT, "riskwarn.toml")
MODEL = os.path.join(ROOT, "models", "logistic-sample.json")
AS_OF = "2026-01-01"
LATER = "2026-02-01"
# What may differ between two runs of the same inputs: how long they took and how they split the work.
MANIFEST_RUNTIME = ("timings_seconds", "buckets", "spill_bytes")


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    # local[2, 4]: two cores, and a failed task is tried up to 4 times (the retry test).
    s = (
        SparkSession.builder.master("local[2,4]")
        .appName("riskwarn-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def spark_run(spark, out, data=SAMPLE, as_of=AS_OF, **kw):
    return run(spark, Options(data=data, out=str(out), policy=POLICY, model=MODEL, as_of=as_of, binary=BIN, **kw))


def native_run(out, data=SAMPLE, as_of=AS_OF):
    done = subprocess.run([BIN, "--quiet", "--json", "run", "--data", data, "--model", MODEL, "--policy", POLICY, "--as-of", as_of, "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return os.path.join(out, json.loads(done.stdout)["run_id"])


def manifest(run_dir):
    with open(os.path.join(run_dir, "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    return {k: v for k, v in m.items() if k not in MANIFEST_RUNTIME}


def assert_same_run(ours, theirs):
    """The same run directory: its name (the run id), every file byte for byte, and the
    manifest but for its timings and bucket figures."""
    assert os.path.basename(ours) == os.path.basename(theirs)
    names = sorted(os.listdir(theirs))
    assert sorted(os.listdir(ours)) == names
    assert {"warnings.parquet", "warnings.csv", "warnings_public.csv", "warnings.xlsx", "plan.parquet", "rejected.parquet", "cases.parquet", "case_events.parquet", "report.html"} <= set(names)
    for name in names:
        if name != "manifest.json":
            with open(os.path.join(ours, name), "rb") as a, open(os.path.join(theirs, name), "rb") as b:
                assert a.read() == b.read(), f"{name} differs"
    assert manifest(ours) == manifest(theirs)


@pytest.fixture(scope="session")
def native(tmp_path_factory):
    return native_run(tmp_path_factory.mktemp("native"))


@pytest.fixture(scope="session")
def spark_dir(spark, tmp_path_factory):
    return spark_run(spark, tmp_path_factory.mktemp("spark"), buckets=3)


def test_the_same_run_directory_as_riskwarn_run(native, spark_dir):
    assert_same_run(spark_dir, native)
    m = manifest(spark_dir)
    # Rows read = used + rejected, table by table.
    for t in m["tables"]:
        assert t["read"] == t["used"] + t["rejected"], t
    assert sum(t["read"] for t in m["tables"]) > 0 and m["cases"]["opening"]["opened"] > 0


@pytest.fixture(scope="session")
def dirty(tmp_path_factory):
    """A small generated data set with bad rows of every kind the contract rejects."""
    data = tmp_path_factory.mktemp("dirty") / "data"
    done = subprocess.run([BIN, "--quiet", "generate", "--subjects", "300", "--years", "2", "--dirty", "0.05", "--out", str(data)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return str(data)


def test_dirty_data_gives_the_native_quarantine_and_run(spark, dirty, tmp_path):
    theirs = native_run(tmp_path / "native", data=dirty)
    ours = spark_run(spark, tmp_path / "spark", data=dirty, buckets=4)
    assert_same_run(ours, theirs)
    rejected = pq.read_table(os.path.join(ours, "rejected.parquet"))
    assert rejected.num_rows > 20 and set(rejected.column("table").to_pylist()) >= {"subjects", "inspections", "penalties"}


def test_the_case_book_and_the_plan_follow_through_carry_from_run_to_run(spark, tmp_path):
    native_out, spark_out = tmp_path / "native", tmp_path / "spark"
    first = native_run(native_out)
    assert_same_run(spark_run(spark, spark_out, buckets=2), first)
    later = native_run(native_out, as_of=LATER)
    ours = spark_run(spark, spark_out, as_of=LATER, buckets=5)
    assert_same_run(ours, later)
    m = manifest(ours)
    assert m["previous_run"] == os.path.basename(first) and m["previous_plan"] is not None
    # Every case of the first run is still in the book.
    before = set(pq.read_table(os.path.join(first, "cases.parquet")).column("case_id").to_pylist())
    assert before and before <= set(pq.read_table(os.path.join(ours, "cases.parquet")).column("case_id").to_pylist())


def test_the_number_of_buckets_does_not_change_the_outputs(spark, native, tmp_path):
    assert_same_run(spark_run(spark, tmp_path, buckets=7), native)


def test_a_failed_bucket_is_retried_without_losing_or_duplicating_rows(spark, native, tmp_path):
    assert_same_run(spark_run(spark, tmp_path, buckets=3, fail_bucket_once=1), native)


def test_a_file_of_the_wrong_type_stops_the_job_naming_file_and_column(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    t = pq.read_table(data / "penalties.parquet")
    i = t.schema.get_field_index("decided_on")
    pq.write_table(t.set_column(i, "decided_on", t.column(i).cast(pa.string())), data / "penalties.parquet")
    native = subprocess.run([BIN, "--quiet", "run", "--data", str(data), "--model", MODEL, "--policy", POLICY, "--as-of", AS_OF, "--out", str(tmp_path / "n")], capture_output=True, text=True)
    ours = subprocess.run(
        [sys.executable, "-m", "riskwarn_spark", "run", "--master", "local[1]", "--data", str(data), "--model", MODEL, "--policy", POLICY, "--as-of", AS_OF, "--out", str(tmp_path / "s"), "--binary", BIN],
        capture_output=True, text=True, cwd=os.path.join(ROOT, "spark"),
    )
    assert native.returncode == 2 and ours.returncode == 2, (native.stderr, ours.stderr[-2000:])
    for text in (native.stderr, ours.stderr):
        assert "penalties.parquet" in text and "`decided_on`" in text, text[-2000:]
    assert not os.path.exists(tmp_path / "s") or not [d for d in os.listdir(tmp_path / "s") if not d.startswith(".")]


def test_a_kernel_refusal_inside_a_task_keeps_its_message_and_exit_code():
    text = "org.apache.spark.api.python.PythonException: Traceback …\nriskwarn_spark.kernel.KernelError: [riskwarn exit 2] inspections.parquet: table `inspections`: bad\n  at …"
    assert kernel_failure(text) == (2, "inspections.parquet: table `inspections`: bad")
    assert kernel_failure("[riskwarn exit 1] internal")[0] == 1
    assert kernel_failure("java.lang.OutOfMemoryError") == (1, None)
