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
WARNING_COLUMNS = ["rank", "uscc", "name", "score", "risk_level", "credit_grade", "reason_text", "reasons", "hard_rules", "grade_before_override", "observation_period", "days_since_random_pass", "change"]
PLAN_COLUMNS = ["uscc", "department", "stratum", "inclusion_probability", "selected"]


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


@pytest.fixture(scope="session")
def native(tmp_path_factory):
    out = tmp_path_factory.mktemp("native")
    done = subprocess.run([BIN, "--quiet", "--json", "run", "--data", SAMPLE, "--model", MODEL, "--policy", POLICY, "--as-of", AS_OF, "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    m = json.loads(done.stdout)
    return os.path.join(out, m["run_id"]), m


def spark_run(spark, out, data=SAMPLE, **kw):
    return run(spark, Options(data=data, out=str(out), policy=POLICY, model=MODEL, as_of=AS_OF, binary=BIN, **kw))


def assert_same(a: pa.Table, b: pa.Table, columns, what):
    assert a.num_rows == b.num_rows, f"{what}: {a.num_rows} rows against {b.num_rows}"
    for c in columns:
        assert a.column(c).to_pylist() == b.column(c).to_pylist(), f"{what}: column {c} differs"


@pytest.fixture(scope="session")
def spark_dir(spark, tmp_path_factory):
    return spark_run(spark, tmp_path_factory.mktemp("spark"), buckets=3)


def test_same_warnings_and_plan_as_riskwarn_run(native, spark_dir):
    native_dir, m = native
    assert_same(pq.read_table(os.path.join(spark_dir, "warnings.parquet")), pq.read_table(os.path.join(native_dir, "warnings.parquet")), WARNING_COLUMNS, "warnings")
    assert_same(pq.read_table(os.path.join(spark_dir, "plan.parquet")), pq.read_table(os.path.join(native_dir, "plan.parquet")), PLAN_COLUMNS, "plan")
    manifest = json.load(open(os.path.join(spark_dir, "manifest.json"), encoding="utf-8"))
    assert manifest["scored"] == m["scored"]
    assert manifest["levels"] == {k: v for k, v in m["levels"]}
    assert manifest["grades"] == {k: v for k, v in m["grades"]}
    # Rows read = used + rejected, table by table, as the native run counts them.
    native_counts = {t["table"]: (t["read"], t["used"], t["rejected"]) for t in m["tables"]}
    for t in manifest["tables"]:
        assert t["read"] == t["used"] + t["rejected"], t
        if t["table"] != "dispositions":
            assert (t["read"], t["used"], t["rejected"]) == native_counts[t["table"]], t
    assert sum(t["read"] for t in manifest["tables"]) > 0


@pytest.fixture(scope="session")
def dirty(tmp_path_factory):
    """A small generated data set with bad rows of every kind the contract rejects."""
    data = tmp_path_factory.mktemp("dirty") / "data"
    done = subprocess.run([BIN, "--quiet", "generate", "--subjects", "300", "--years", "2", "--dirty", "0.05", "--out", str(data)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return str(data)


def test_dirty_data_gives_the_native_quarantine_warnings_and_counts(spark, dirty, tmp_path):
    out = tmp_path / "native"
    done = subprocess.run([BIN, "--quiet", "--json", "run", "--data", dirty, "--model", MODEL, "--policy", POLICY, "--as-of", AS_OF, "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    m = json.loads(done.stdout)
    native_dir = os.path.join(out, m["run_id"])
    ours_dir = spark_run(spark, tmp_path / "spark", data=dirty, buckets=4)
    cols = ["table", "file", "row", "column", "reason", "uscc"]
    ours = pq.read_table(os.path.join(ours_dir, "rejected.parquet")).select(cols).to_pylist()
    # The case stage of the native run also quarantines dispositions of no known case.
    theirs = [r for r in pq.read_table(os.path.join(native_dir, "rejected.parquet")).select(cols).to_pylist() if r["table"] != "dispositions" or r in ours]
    assert len(ours) > 20 and ours == theirs
    assert {r["table"] for r in ours} >= {"subjects", "inspections", "penalties"}
    assert_same(pq.read_table(os.path.join(ours_dir, "warnings.parquet")), pq.read_table(os.path.join(native_dir, "warnings.parquet")), WARNING_COLUMNS, "warnings")
    native_counts = {t["table"]: (t["read"], t["used"], t["rejected"]) for t in m["tables"]}
    manifest = json.load(open(os.path.join(ours_dir, "manifest.json"), encoding="utf-8"))
    for t in manifest["tables"]:
        assert t["read"] == t["used"] + t["rejected"], t
        if t["table"] != "dispositions":
            assert (t["read"], t["used"], t["rejected"]) == native_counts[t["table"]], t


def test_the_number_of_buckets_does_not_change_the_outputs(spark, spark_dir, tmp_path):
    other = spark_run(spark, tmp_path, buckets=7)
    for name in ("warnings.parquet", "plan.parquet", "rejected.parquet"):
        assert pq.read_table(os.path.join(other, name)).equals(pq.read_table(os.path.join(spark_dir, name))), name


def test_a_failed_bucket_is_retried_without_losing_or_duplicating_rows(spark, spark_dir, tmp_path):
    retried = spark_run(spark, tmp_path, buckets=3, fail_bucket_once=1)
    for name in ("warnings.parquet", "plan.parquet", "rejected.parquet"):
        assert pq.read_table(os.path.join(retried, name)).equals(pq.read_table(os.path.join(spark_dir, name))), name


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
