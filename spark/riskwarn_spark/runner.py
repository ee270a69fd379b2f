"""The nightly job on Spark: the riskwarn kernel per bucket of subjects (docs/scale-out.md).

1. The driver finds the contract's tables under the data path (any Hadoop file system), checks
   every file's schema against the contract, and reads the inspector roster whole.
2. **One shuffle.** Every subject-keyed table is cut, batch by batch, into per-bucket Arrow IPC
   chunks (bucket = ``pmod(xxhash64(uscc), B)``), the chunks of all tables are unioned and
   repartitioned by bucket once; the shuffled chunks are kept (``persist``) for both passes.
3. **Pass 1** (``groupBy(bucket).applyInArrow``): each bucket's tables, in reading order, go
   through ``kernel.partials``: validation, per-subject features, peer-group partials, relation
   parts, counts and the quarantine.
4. Peer statistics, indicator rows and counts are **summed with Spark aggregates**; the relation
   graph is evaluated once over the compact parts of every bucket.
5. **Pass 2** (``applyInArrow`` over the same grouping, no new shuffle): ``kernel.score`` per
   bucket with the merged statistics, giving typed Spark rows.
6. **Rank, levels and score classes in Spark SQL**, globally (a range-partitioned sort and
   per-partition offsets); the kernel's warning list (reason texts, hard rules, overrides) must
   agree with them, and the plan is drawn through the kernel, department by department.
7. The run directory is written atomically: warnings.parquet, plan.parquet, rejected.parquet,
   manifest.json.

A failed task is retried by Spark: every per-bucket output is a pure function of the bucket's
rows, so a retry neither duplicates nor loses a row.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import posixpath
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from typing import Dict, List, Optional
from urllib.parse import unquote, urlparse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from .kernel import BinaryKernel

BUCKET, TABLE, PAYLOAD, KIND = "__bucket", "__table", "__payload", "__kind"
FILE, ROW = "__file", "__row"
CHUNKS = f"{BUCKET} int, {TABLE} string, {PAYLOAD} binary"
PARTS = f"{BUCKET} int, {KIND} string, {PAYLOAD} binary"
# Spark SQL types that hold each contract type (the contract's own check, on Spark's schema).
FITS = {
    "str": ("string",),
    "date": ("date", "timestamp", "timestamp_ntz"),
    "f64": ("tinyint", "smallint", "int", "bigint", "float", "double"),
    "i32": ("tinyint", "smallint", "int", "bigint"),
    "bool": ("boolean",),
}
# Summed partials: key columns; every other column is summed.
SUMMED = {
    "peer_groups": ["industry_section", "__peer_region"],
    "peer_moments": ["kind", "violations", "inspections"],
    "indicator_rows": ["indicator"],
    "counts": ["table"],
}


class BadInput(Exception):
    """Input the job refuses (exit code 2), naming file and column where it can."""


@dataclass
class Options:
    data: str
    out: str
    policy: str
    model: str
    as_of: str
    binary: str
    buckets: int = 16
    today: Optional[str] = None
    seed: Optional[int] = None
    # For the retry test: the task of this bucket fails on its first attempt.
    fail_bucket_once: Optional[int] = None


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(data: bytes) -> pa.Table:
    return ipc.open_stream(pa.py_buffer(data)).read_all()


def _hadoop(spark: SparkSession, path: str):
    jvm = spark.sparkContext._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), p


def _parquet_files(spark: SparkSession, path: str) -> List[str]:
    fs, p = _hadoop(spark, path)
    files = []
    it = fs.listFiles(p, True)
    while it.hasNext():
        s = it.next().getPath().toString()
        if s.endswith(".parquet"):
            files.append(s)
    return files


def _uri_path(uri: str) -> str:
    return unquote(urlparse(uri).path) if "://" in uri or uri.startswith("file:") else uri


def discover(spark: SparkSession, data: str, contract: list) -> Dict[str, List[str]]:
    """The contract's tables under ``data``: ``<table>.parquet`` or ``<table>/`` (its parquet
    files, recursively), as the native loader finds them."""
    fs, root = _hadoop(spark, data)
    if not fs.exists(root) or not fs.getFileStatus(root).isDirectory():
        raise BadInput(f"{data}: data directory not found")
    found = {}
    for t in contract:
        name = t["name"]
        file_path, dir_path = _hadoop(spark, posixpath.join(data, f"{name}.parquet"))[1], _hadoop(spark, posixpath.join(data, name))[1]
        is_file = fs.exists(file_path) and fs.getFileStatus(file_path).isFile()
        is_dir = fs.exists(dir_path) and fs.getFileStatus(dir_path).isDirectory()
        if is_file and is_dir:
            raise BadInput(f"{data}: both {name}.parquet and {name}/ exist; keep one")
        if is_file:
            found[name] = [fs.makeQualified(file_path).toString()]
        elif is_dir:
            files = sorted(_parquet_files(spark, fs.makeQualified(dir_path).toString()), key=lambda f: _uri_path(f).split("/"))
            if not files:
                raise BadInput(f"{posixpath.join(data, name)}: directory holds no *.parquet file")
            found[name] = files
        elif t["required"]:
            raise BadInput(f"{data}: required table `{name}` not found ({name}.parquet or {name}/)")
    return found


def _arrow_fits(ty: str, t: pa.DataType) -> bool:
    """The native loader's rule for a column's Arrow type (``io::type_fits``)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if ty == "str":
        return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    if ty == "date":
        return pa.types.is_date(t) or pa.types.is_timestamp(t)
    if ty == "f64":
        return pa.types.is_integer(t) or pa.types.is_floating(t)
    if ty == "i32":
        return pa.types.is_integer(t)
    return pa.types.is_boolean(t)


def _file_schema(spark: SparkSession, uri: str) -> Dict[str, object]:
    """A file's columns and their types: its footer through pyarrow for a local file, through
    Spark (Spark SQL type names) on other file systems."""
    if uri.startswith("file:"):
        return {f.name: f.type for f in pq.read_schema(_uri_path(uri))}
    return {f.name: f.dataType.simpleString() for f in spark.read.parquet(uri).schema.fields}


def check_schema(spark: SparkSession, spec: dict, files: List[str], root: str) -> None:
    """Every file's columns against the contract, with the native loader's rule and message."""
    for f in files:
        schema, name = _file_schema(spark, f), _relative(f, root)
        for c in spec["columns"]:
            found = schema.get(c["name"])
            if found is None:
                if not c["optional"]:
                    raise BadInput(f"{name}: table `{spec['name']}`: required column `{c['name']}` ({c['describe']}) is missing")
            elif not (_arrow_fits(c["type"], found) if isinstance(found, pa.DataType) else found in FITS[c["type"]]):
                raise BadInput(f"{name}: table `{spec['name']}`, column `{c['name']}`: expected {c['describe']}, found {found}")


def _relative(uri: str, root: str) -> str:
    path, base = _uri_path(uri), _uri_path(root).rstrip("/")
    return path[len(base) + 1 :] if path.startswith(base + "/") else path


def _ranks_of(values: pa.ChunkedArray, order: List[str]) -> pa.Array:
    """Each value's position in ``order`` (vectorised: the distinct values are few)."""
    return pc.index_in(values, value_set=pa.array(order, pa.string()))


def _path_order(names) -> List[str]:
    """File names in the native reading order: compared as paths, part by part."""
    return sorted(set(names), key=lambda f: f.split("/"))


def _named_files(table: pa.Table, root: str) -> pa.Table:
    """Spark's ``__path`` (a URI per row) replaced by ``__file``, the path from the data
    directory as the native loader names files (the distinct paths are few)."""
    paths = table.column("__path")
    distinct = pc.unique(paths)
    relative = pa.array([_relative(p, root) for p in distinct.to_pylist()], pa.string())
    return table.drop(["__path"]).append_column(FILE, pc.take(relative, pc.index_in(paths, value_set=distinct)))


def _reading_order(table: pa.Table) -> pa.Table:
    """Rows in the native reading order: files compared as paths, part by part, then row."""
    if table.num_rows == 0:
        return table
    files = table.column(FILE)
    rank = _ranks_of(files, _path_order(pc.unique(files).to_pylist()))
    idx = pc.sort_indices(pa.table({"f": rank, "r": table.column(ROW)}), [("f", "ascending"), ("r", "ascending")])
    return table.take(idx)


def _bucket_tables(chunks: pa.Table, schemas: Dict[str, pa.Schema]) -> Dict[str, pa.Table]:
    """One bucket's chunks decoded into its tables (every table, empty where it has no rows)."""
    parts: Dict[str, List[pa.Table]] = {name: [] for name in schemas}
    for name, data in zip(chunks.column(TABLE).to_pylist(), chunks.column(PAYLOAD).to_pylist()):
        parts[name].append(_from_ipc(data))
    out = {}
    for name, schema in schemas.items():
        t = pa.concat_tables(parts[name]) if parts[name] else schema.empty_table()
        out[name] = _reading_order(t)
    return out


def _fail_first_attempt(bucket: int, fail_bucket: Optional[int]) -> None:
    if fail_bucket is not None and bucket == fail_bucket:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        if ctx is not None and ctx.attemptNumber() == 0:
            raise RuntimeError(f"injected failure of bucket {bucket} (first attempt)")


def _sum_partials(spark: SparkSession, kind: str, parts: List[pa.Table]) -> pa.Table:
    """The partials of every bucket summed by key with a Spark aggregate, in the partials' schema."""
    table = pa.concat_tables(parts)
    schema = table.schema
    # Spark has no unsigned integers: counts travel as int64 and come back in their own type.
    plain = table.cast(pa.schema([pa.field(f.name, pa.int64() if pa.types.is_unsigned_integer(f.type) else f.type) for f in schema]))
    keys = SUMMED[kind]
    values = [f.name for f in schema if f.name not in keys]
    if plain.num_rows == 0:
        return table
    summed = spark.createDataFrame(plain).groupBy(*keys).agg(*[F.sum(v).alias(v) for v in values]).orderBy(*keys).toArrow()
    return summed.select(schema.names).cast(schema)


def _band_bounds(cuts: List[float], n: int) -> List[int]:
    """The last rank of each band for shares of the ranked list: round(Σ shares × n), halves
    away from zero (as the engine rounds)."""
    out, cum = [], 0.0
    for s in cuts:
        cum += s
        x = cum * n
        out.append(int(math.floor(x)) + (1 if x - math.floor(x) >= 0.5 else 0))
    return out


def _band(method: str, cuts: List[float], n: int, labels: List[str]):
    """A Spark SQL expression for the band of each row: by rank (share) or by score."""
    expr = None
    if method == "share":
        for bound, label in zip(_band_bounds(cuts, n), labels):
            expr = (F.when(F.col("rank") <= bound, label)) if expr is None else expr.when(F.col("rank") <= bound, label)
    else:
        for cut, label in zip(cuts, labels):
            expr = (F.when(F.col("score") >= cut, label)) if expr is None else expr.when(F.col("score") >= cut, label)
    return expr.otherwise(labels[-1])


def rank_in_spark(scored: DataFrame) -> DataFrame:
    """Rank by score (highest first), ties by uscc, over every bucket: a range-partitioned sort,
    rows counted per partition, and each partition's offset added to its local row number."""
    sorted_ = scored.select("uscc", "score").orderBy(F.col("score").desc(), F.col("uscc").asc()).withColumn("__part", F.spark_partition_id()).persist()
    counts = sorted_.groupBy("__part").count().orderBy("__part").collect()
    offsets, total = {}, 0
    for row in counts:
        offsets[row["__part"]] = total
        total += row["count"]
    offset = F.create_map(*[x for p, o in offsets.items() for x in (F.lit(p), F.lit(o))]) if offsets else F.create_map(F.lit(0), F.lit(0))
    local = F.row_number().over(Window.partitionBy("__part").orderBy(F.col("score").desc(), F.col("uscc").asc()))
    return sorted_.withColumn("rank", (offset[F.col("__part")] + local).cast("int")).drop("__part")


def _ship_package(spark: SparkSession) -> None:
    """This package, zipped, to every executor's Python path (once per Spark context)."""
    sc = spark.sparkContext
    if getattr(sc, "_riskwarn_shipped", False):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    archive = shutil.make_archive(os.path.join(tempfile.mkdtemp(prefix="riskwarn-spark-"), "riskwarn_spark"), "zip", os.path.dirname(here), os.path.basename(here))
    sc.addPyFile(archive)
    sc._riskwarn_shipped = True


def run(spark: SparkSession, opts: Options) -> str:
    """The whole job; returns the run directory."""
    _ship_package(spark)
    # Every shuffle of the job (aggregates, the global sort) has one partition per bucket.
    partitions = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", str(opts.buckets))
    try:
        return _run(spark, opts)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", partitions)


def _run(spark: SparkSession, opts: Options) -> str:
    clock = _Clock()
    kernel = BinaryKernel(binary=opts.binary, policy=opts.policy, model=opts.model, as_of=opts.as_of, today=opts.today, seed=opts.seed)
    with open(opts.policy, "rb") as f:
        policy = tomllib.load(f)
    contract = kernel.contract()
    specs = {t["name"]: t for t in contract}
    found = discover(spark, opts.data, contract)
    fs, data_path = _hadoop(spark, opts.data)
    root = fs.makeQualified(data_path).toString()
    for name, files in found.items():
        check_schema(spark, specs[name], files, root)
    clock.lap("check")

    def read(name: str) -> DataFrame:
        return spark.read.parquet(*found[name]).select("*", F.col("_metadata.file_path").alias("__path"), (F.col("_metadata.row_index") + 1).alias(ROW))

    def arrow_schema(df: DataFrame) -> pa.Schema:
        # A bucket without rows of a table still passes it, empty, in the table's schema: the
        # Arrow schema Spark hands to Python (no job).
        from pyspark.sql.pandas.types import to_arrow_schema

        return to_arrow_schema(df.schema)

    inspectors = None
    if "inspectors" in found:
        inspectors = _named_files(read("inspectors").toArrow(), root)
    keyed = [n for n in found if specs[n]["by_subject"]]
    buckets = opts.buckets

    # The one shuffle: per-bucket IPC chunks of every table.
    chunk_frames = []
    schemas: Dict[str, pa.Schema] = {}
    for name in keyed:
        df = read(name)
        schema = arrow_schema(df)
        fields = [f for f in schema if f.name != "__path"] + [pa.field(FILE, pa.string())]
        schemas[name] = pa.schema(fields)
        tagged = df.withColumn(BUCKET, F.pmod(F.xxhash64(F.coalesce(F.col("uscc"), F.lit(""))), F.lit(buckets)).cast("int"))

        def chunk(batches, name=name, root=root):
            out_schema = pa.schema([(BUCKET, pa.int32()), (TABLE, pa.string()), (PAYLOAD, pa.binary())])
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                t = _named_files(pa.Table.from_batches([batch]), root)
                # One sort by bucket, then a slice per bucket.
                t = t.take(pc.sort_indices(t.column(BUCKET)))
                b = t.column(BUCKET).to_numpy()
                starts = [0] + (np.flatnonzero(np.diff(b)) + 1).tolist()
                bounds = list(zip(starts, starts[1:] + [len(b)]))
                payloads = [_ipc_bytes(t.slice(lo, hi - lo).drop([BUCKET])) for lo, hi in bounds]
                yield pa.RecordBatch.from_arrays(
                    [pa.array([int(b[lo]) for lo, _ in bounds], pa.int32()), pa.array([name] * len(bounds), pa.string()), pa.array(payloads, pa.binary())], schema=out_schema
                )

        chunk_frames.append(tagged.mapInArrow(chunk, CHUNKS))
    chunks = chunk_frames[0]
    for f in chunk_frames[1:]:
        chunks = chunks.unionByName(f)
    # Kept on local disk, not the JVM heap: at province scale the chunks are gigabytes.
    shuffled = chunks.repartition(buckets, BUCKET).persist(StorageLevel.DISK_ONLY)
    clock.lap("plan_shuffle")
    fail = opts.fail_bucket_once

    # Pass 1: partials per bucket.
    def partials(chunks_of_bucket: pa.Table) -> pa.Table:
        bucket = chunks_of_bucket.column(BUCKET)[0].as_py()
        _fail_first_attempt(bucket, fail)
        out = kernel.partials(_bucket_tables(chunks_of_bucket, schemas), inspectors)
        rows = [{BUCKET: bucket, KIND: kind, PAYLOAD: _ipc_bytes(t)} for kind, t in sorted(out.items())]
        return pa.Table.from_pylist(rows, schema=pa.schema([(BUCKET, pa.int32()), (KIND, pa.string()), (PAYLOAD, pa.binary())]))

    grouped = shuffled.groupBy(BUCKET)
    collected: Dict[str, List[pa.Table]] = {}
    for row in sorted(grouped.applyInArrow(partials, PARTS).collect(), key=lambda r: (r[BUCKET], r[KIND])):
        collected.setdefault(row[KIND], []).append(_from_ipc(row[PAYLOAD]))
    clock.lap("shuffle_and_partials")
    if not collected:
        raise BadInput(f"{opts.data}: no subject rows")
    stats = {kind: _sum_partials(spark, kind, collected[kind]) for kind in ("peer_groups", "peer_moments", "indicator_rows")}
    counts = _sum_partials(spark, "counts", collected["counts"])
    present = list(found)
    relation_ids_capped = 0
    if "relation_nodes" in collected:
        relations, relation_ids_capped = kernel.relations(
            pa.concat_tables(collected["relation_nodes"]), pa.concat_tables(collected["relation_edges"]), pa.concat_tables(collected["subjects"]), present
        )
        stats["relations"] = relations
    clock.lap("merge")
    stats_bytes = spark.sparkContext.broadcast({k: _ipc_bytes(v) for k, v in stats.items()})

    # The scored rows' schema, from the kernel itself (a bucket with no rows).
    empty = {name: s.empty_table() for name, s in schemas.items()}
    # Its notices (hard rules that cannot fire) are the same for every bucket.
    probe, notices = kernel.score(empty, inspectors, stats)
    scored_schema = probe.schema

    # Pass 2: scoring per bucket, over the same grouping (no new exchange).
    def score(chunks_of_bucket: pa.Table) -> pa.Table:
        merged = {k: _from_ipc(v) for k, v in stats_bytes.value.items()}
        scored, _ = kernel.score(_bucket_tables(chunks_of_bucket, schemas), inspectors, merged)
        return scored

    from pyspark.sql.pandas.types import from_arrow_schema

    scored = grouped.applyInArrow(score, from_arrow_schema(scored_schema)).persist()
    n = scored.count()
    clock.lap("score")
    if n == 0:
        raise BadInput(f"no subject is scored as of {opts.as_of} (none active/suspended and established before it)")

    # Rank, levels and score classes in Spark SQL over the whole population.
    ranked = rank_in_spark(scored)
    levels, grades = policy.get("levels", {}), policy.get("grades", {})
    ranked = ranked.withColumn(
        "risk_level", _band(levels.get("method", "share"), [levels["red"], levels["orange"], levels["yellow"]], n, ["red", "orange", "yellow", "blue"])
    ).withColumn("score_class", _band(grades.get("method", "share"), [grades["d"], grades["c"], grades["b"]], n, ["D", "C", "B", "A"]))
    spark_ranks = ranked.select("uscc", "rank", "risk_level", "score_class").toArrow()
    clock.lap("rank")

    # The warning list of every bucket's rows, which must agree with Spark's cut.
    overrides = pa.concat_tables(collected["overrides"]) if "overrides" in collected else None
    warnings = kernel.warnings(scored.toArrow(), overrides, None)
    _agree(warnings, spark_ranks)
    plan = kernel.plan(warnings)

    rejected = _sort_rejected(pa.concat_tables(collected["rejected"]), [t["name"] for t in contract])
    clock.lap("warnings_and_plan")
    return _write_run(opts, warnings, plan, rejected, counts, found, root, relation_ids_capped, buckets, clock, notices)


class _Clock:
    """Seconds per step of the job, for the manifest."""

    def __init__(self):
        import time

        self._now = time.perf_counter
        self._last = self._now()
        self.laps: Dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = self._now()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


def _agree(warnings: pa.Table, spark_ranks: pa.Table) -> None:
    """Spark's global rank and level cut, and its score class wherever no rule moved the
    grade, are the kernel's."""
    ours = {u: (r, l, c) for u, r, l, c in zip(*(spark_ranks.column(c).to_pylist() for c in ("uscc", "rank", "risk_level", "score_class")))}
    theirs = zip(*(warnings.column(c).to_pylist() for c in ("uscc", "rank", "risk_level", "credit_grade", "hard_rules", "observation_period", "grade_before_override")))
    for uscc, rank, level, grade, rules, observation, before in theirs:
        r, l, c = ours[uscc]
        if (r, l) != (rank, level) or (not rules and not observation and before is None and c != grade):
            raise RuntimeError(f"Spark's rank/level/grade of {uscc} ({r}, {l}, {c}) differ from the kernel's ({rank}, {level}, {grade})")


def _sort_rejected(rejected: pa.Table, tables: List[str]) -> pa.Table:
    """The quarantine in the native order: table (contract order), file (reading order), row."""
    if rejected.num_rows == 0:
        return rejected
    files = rejected.column("file")
    known = [t for t in tables] + sorted(set(rejected.column("table").to_pylist()) - set(tables))
    keys = pa.table({
        "t": _ranks_of(rejected.column("table"), known),
        "f": _ranks_of(files, _path_order(pc.unique(files).to_pylist())),
        "r": rejected.column("row"),
    })
    return rejected.take(pc.sort_indices(keys, [("t", "ascending"), ("f", "ascending"), ("r", "ascending")]))


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_run(opts, warnings, plan, rejected, counts, found, root, relation_ids_capped, buckets, clock, notices) -> str:
    """The run directory, written in a temporary sibling and renamed into place."""
    inputs = sorted(f for files in found.values() for f in files)
    key = "|".join([opts.as_of, _sha256(opts.model), _sha256(opts.policy), str(opts.seed)] + [_relative(f, root) for f in inputs])
    run_id = f"{opts.as_of}-spark-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    os.makedirs(opts.out, exist_ok=True)
    final = os.path.join(opts.out, run_id)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{run_id}-", dir=opts.out)
    try:
        files = {"warnings.parquet": warnings, "plan.parquet": plan, "rejected.parquet": rejected}
        for name, table in files.items():
            pq.write_table(table, os.path.join(tmp, name))
        levels = {lv: 0 for lv in ("red", "orange", "yellow", "blue")}
        for lv in warnings.column("risk_level").to_pylist():
            levels[lv] += 1
        grades = {g: 0 for g in "ABCD"}
        for g in warnings.column("credit_grade").to_pylist():
            grades[g] += 1
        manifest = {
            "run_id": run_id,
            "as_of": opts.as_of,
            "engine": "spark",
            "model_file": {"file": opts.model, "sha256": _sha256(opts.model)},
            "policy_file": {"file": opts.policy, "sha256": _sha256(opts.policy)},
            "buckets": buckets,
            "inputs": [_relative(f, root) for f in inputs],
            "tables": [dict(zip(counts.column_names, row)) for row in zip(*(counts.column(c).to_pylist() for c in counts.column_names))],
            "scored": warnings.num_rows,
            "relation_ids_capped": relation_ids_capped,
            "levels": levels,
            "grades": grades,
            "plan_selections": int(pc.sum(plan.column("selected").cast(pa.int64())).as_py() or 0) if plan.num_rows else 0,
            "notices": notices,
            "timings_seconds": clock.laps,
            "outputs": [{"file": name, "sha256": _sha256(os.path.join(tmp, name))} for name in sorted(files)],
        }
        with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, ensure_ascii=False, indent=2)
        if os.path.exists(final):
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
