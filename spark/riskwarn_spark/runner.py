"""The nightly job on Spark: the riskwarn kernel per bucket of subjects (docs/scale-out.md).

1. The driver finds the contract's tables under the data path (any Hadoop file system), checks
   every file's schema against the contract, hashes the inputs, reads the inspector roster
   whole, and asks the kernel for the previous run in the output directory (its plan's window).
2. **One shuffle.** Every subject-keyed table is cut, batch by batch, into per-bucket Arrow IPC
   chunks (bucket = ``pmod(xxhash64(uscc), B)``), the chunks of all tables are unioned and
   repartitioned by bucket once; the shuffled chunks are kept (``persist``) for both passes.
3. **Pass 1** (``groupBy(bucket).applyInArrow``): each bucket's tables, in reading order, go
   through ``kernel.partials``: validation, per-subject features, peer-group partials, relation
   parts, the rows of the tables used whole, counts and the quarantine.
4. Peer statistics and indicator rows are **summed with Spark aggregates**; the relation graph
   and the subjects in a quiet period (the case book) are made once over the compact parts.
5. **Pass 2** (``applyInArrow`` over the same grouping, no new shuffle): ``kernel.score`` per
   bucket with the merged statistics, giving typed Spark rows.
6. **Rank, levels and score classes in Spark SQL**, globally (a range-partitioned sort and
   per-partition offsets).
7. ``kernel.finish`` over every bucket's parts writes the run directory as ``riskwarn run``
   writes it (the same files, bytes and manifest but for its timings): the warning list must
   agree with Spark's cut; cases, the plan with inspectors, the workbook and the report follow.

A failed task is retried by Spark: every per-bucket output is a pure function of the bucket's
rows, so a retry neither duplicates nor loses a row.
"""

from __future__ import annotations

import hashlib
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


def check_schema(spark: SparkSession, spec: dict, files: List[str], root: str) -> List[str]:
    """Every file's columns against the contract, with the native loader's rule and message;
    returns the columns the contract does not know, in the order the files first have them."""
    known = {c["name"] for c in spec["columns"]} | {FILE, ROW}
    extra: List[str] = []
    for f in files:
        schema, name = _file_schema(spark, f), _relative(f, root)
        extra += [c for c in schema if c not in known and c not in extra]
        for c in spec["columns"]:
            found = schema.get(c["name"])
            if found is None:
                if not c["optional"]:
                    raise BadInput(f"{name}: table `{spec['name']}`: required column `{c['name']}` ({c['describe']}) is missing")
            elif not (_arrow_fits(c["type"], found) if isinstance(found, pa.DataType) else found in FITS[c["type"]]):
                raise BadInput(f"{name}: table `{spec['name']}`, column `{c['name']}`: expected {c['describe']}, found {found}")
    return extra


def unknown_entries(spark: SparkSession, data: str, contract: list) -> List[str]:
    """Entries of the data directory that look like data but are no table of the contract (the
    native loader names them in a notice)."""
    fs, root = _hadoop(spark, data)
    names = {t["name"] for t in contract}
    out = []
    for status in fs.listStatus(root):
        name = status.getPath().getName()
        stem = name[: -len(".parquet")] if name.endswith(".parquet") else name
        if (name.endswith(".parquet") or status.isDirectory()) and stem not in names and not name.startswith(".") and stem != "truth":
            out.append(name)
    return sorted(out)


def input_hashes(spark: SparkSession, found: Dict[str, List[str]], root: str) -> List[dict]:
    """Every input file in the loader's order (tables in contract order, files as found), with
    its sha256 and size: local files hashed here, others by a Spark job over their bytes."""
    files = [f for fs_ in found.values() for f in fs_]
    remote = [f for f in files if not f.startswith("file:")]
    hashed = {}
    if remote:
        for row in spark.read.format("binaryFile").load(remote).select("path", F.sha2("content", 256).alias("sha256"), "length").collect():
            hashed[row["path"]] = (row["sha256"], row["length"])
    out = []
    for f in files:
        sha, size = hashed[f] if f in hashed else (_sha256(_uri_path(f)), os.path.getsize(_uri_path(f)))
        out.append({"file": _relative(f, root), "sha256": sha, "bytes": size})
    return out


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
    extra_columns = [[name, extra] for name, files in found.items() for extra in [check_schema(spark, specs[name], files, root)] if extra]
    facts = {
        "present": list(found),
        "inputs": input_hashes(spark, found, root),
        "unknown_entries": unknown_entries(spark, opts.data, contract),
        "extra_columns": extra_columns,
        "buckets": opts.buckets,
    }
    # The previous run in the output directory: its plan's window of inspections, and its cases.
    window = kernel.previous(opts.out)
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
        out = kernel.partials(_bucket_tables(chunks_of_bucket, schemas), inspectors, window)
        rows = [{BUCKET: bucket, KIND: kind, PAYLOAD: _ipc_bytes(t)} for kind, t in sorted(out.items())]
        return pa.Table.from_pylist(rows, schema=pa.schema([(BUCKET, pa.int32()), (KIND, pa.string()), (PAYLOAD, pa.binary())]))

    grouped = shuffled.groupBy(BUCKET)
    collected: Dict[str, List[pa.Table]] = {}
    for row in sorted(grouped.applyInArrow(partials, PARTS).collect(), key=lambda r: (r[BUCKET], r[KIND])):
        collected.setdefault(row[KIND], []).append(_from_ipc(row[PAYLOAD]))
    clock.lap("shuffle_and_partials")
    if not collected:
        raise BadInput(f"{opts.data}: no subject rows")
    # The tables used whole (dispositions, cases, overrides, conflicts), every bucket's rows.
    whole = {kind.split("/", 1)[1]: pa.concat_tables(parts, promote_options="permissive") for kind, parts in collected.items() if kind.startswith("whole/")}
    stats = {kind: _sum_partials(spark, kind, collected[kind]) for kind in ("peer_groups", "peer_moments", "indicator_rows")}
    present = list(found)
    if "relation_nodes" in collected:
        relations, facts["relation_ids_capped"] = kernel.relations(
            pa.concat_tables(collected["relation_nodes"]), pa.concat_tables(collected["relation_edges"]), pa.concat_tables(collected["subjects"]), present
        )
        stats["relations"] = relations
    # The subjects in a quiet period, whose adverse records pass 2 looks up.
    stats["quiet"] = kernel.quiet(whole, opts.out)
    clock.lap("merge")
    stats_bytes = spark.sparkContext.broadcast({k: _ipc_bytes(v) for k, v in stats.items()})

    # The scored rows' schema, from the kernel itself (a bucket with no rows).
    empty = {name: s.empty_table() for name, s in schemas.items()}
    # Its notices (hard rules that cannot fire) are the same for every bucket.
    probe, facts["score_notices"] = kernel.score(empty, inspectors, stats)
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
    parts = {"ranks": ranked.select("uscc", "rank", "risk_level", "score_class").toArrow(), "scored/part-0": scored.toArrow()}
    clock.lap("rank")

    # The end of the run through the kernel, which writes the run directory as `riskwarn run`
    # does (and refuses a list that disagrees with Spark's cut).
    for kind in ("counts", "rejected", "window_inspections"):
        for i, t in enumerate(collected.get(kind, [])):
            parts[f"{kind}/part-{i:05d}"] = t
    parts["indicator_rows/part-0"] = stats["indicator_rows"]
    if inspectors is not None:
        parts["inspectors"] = inspectors
    facts["steps"] = list(clock.laps.items())
    return kernel.finish(parts, whole, facts, opts.out)["run_dir"]


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


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
