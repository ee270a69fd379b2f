"""Runs `riskwarn export` SELECTs in real databases and compares their scores with riskwarn's.

Usage: check_export.py [--points POINTS.parquet] FEATURES.parquet WARNINGS.parquet DUCKDB.sql [POSTGRES.sql]

DuckDB (from PyPI) runs the duckdb dialect over the feature Parquet file as the view
`features`. With a second file, a throw-away PostgreSQL server (Debian's postgresql, on a Unix
socket in a temporary directory, started as the `postgres` user when run as root) loads the
same features through CSV and runs the postgres dialect. Prints one line per database: rows
and the largest absolute difference from warnings.parquet's `score`; exit 1 when any exceeds
1e-12 (riskwarn's contract is 1e-9; rounding gives about 1e-15), a subject is missing or
doubled, or a score is not finite; exit 3 (with one line) when PostgreSQL cannot be started.
With --points (a points scorecard), the SQL's `points` column is also compared with the
`points` of POINTS.parquet (uscc, points: riskwarn's own), within 1e-9 (points are ~600, so
rounding gives about 1e-13)."""

import csv
import glob
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile

import duckdb

TOLERANCE = 1e-12
POINTS_TOLERANCE = 1e-9


def compare(name, rows, warnings, column="score", tolerance=TOLERANCE):
    """rows: (uscc, value) pairs from the database, one per feature row."""
    con = duckdb.connect()
    expected = dict(con.execute(f"SELECT uscc, {column} FROM '{warnings}'").fetchall())
    scores = dict(rows)
    duplicated = len(rows) - len(scores)
    missing = [u for u in expected if u not in scores]
    diffs = [abs(scores[u] - s) for u, s in expected.items() if u in scores]
    not_finite = sum(1 for d in diffs if not math.isfinite(d))
    worst = max((d for d in diffs if math.isfinite(d)), default=float("inf"))
    print(f"{name}: {len(rows)} rows, {duplicated} duplicated, {len(missing)} subjects missing, {not_finite} not finite, max |Δ{column}| = {worst:.3e}")
    return not missing and not duplicated and not not_finite and len(rows) == len(expected) and worst <= tolerance


def duckdb_scores(features, sql, column="score"):
    con = duckdb.connect()
    con.execute(f"CREATE VIEW features AS SELECT * FROM '{features}'")
    return con.execute(f"SELECT uscc, {column} FROM ({sql})").fetchall()


PG_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "FLOAT": "real", "DATE": "date", "BOOLEAN": "boolean"}


def pg_type(t):
    if t in PG_TYPES:
        return PG_TYPES[t]
    if "INT" in t:
        return "bigint"
    raise SystemExit(f"no PostgreSQL type for the feature column type {t}")


def postgres_scores(features, sql, wanted=("score",)):
    """(uscc, column, …) rows of the SELECT run in a throw-away PostgreSQL server."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not bins:
        print("skipped: PostgreSQL check: no server (apt-get install postgresql)")
        sys.exit(3)
    bindir = os.path.dirname(bins[-1])
    root = tempfile.mkdtemp(prefix="riskwarn-pg-")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, "postgres")
    data, sock, port = os.path.join(root, "data"), root, "54329"
    run = lambda *args, **kw: subprocess.run(as_postgres + list(args), check=True, capture_output=True, text=True, **kw)
    try:
        run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        run(f"{bindir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(root, "log"), "-o", f"-k {sock} -p {port} -c listen_addresses=''", "start")
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        print(f"skipped: PostgreSQL check: the server did not start ({getattr(e, 'stderr', e)!s:.200})")
        shutil.rmtree(root, ignore_errors=True)
        sys.exit(3)
    psql = lambda *args, **kw: run(f"{bindir}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", sock, "-p", port, "-U", "postgres", "-d", "postgres", *args, **kw)
    try:
        con = duckdb.connect()
        columns = con.execute(f"DESCRIBE SELECT * FROM '{features}'").fetchall()
        table = ", ".join(f'"{c[0]}" {pg_type(c[1])}' for c in columns)
        csv_path = os.path.join(root, "features.csv")
        con.execute(f"COPY (SELECT * FROM '{features}') TO '{csv_path}' (HEADER, NULL '')")
        if as_postgres:
            shutil.chown(csv_path, "postgres")
        psql("-c", f"CREATE TABLE features ({table})")
        psql("-c", f"\\copy features FROM '{csv_path}' CSV HEADER NULL ''")
        # A tree model's SELECT is far longer than an argument may be: psql reads it from a file.
        query = os.path.join(root, "score.sql")
        with open(query, "w") as f:
            f.write(f"COPY (SELECT uscc, {', '.join(wanted)} FROM ({sql.rstrip().rstrip(';')}) s) TO STDOUT WITH CSV;\n")
        if as_postgres:
            shutil.chown(query, "postgres")
        out = psql("-f", query).stdout
        return [(row[0], *map(float, row[1:])) for row in csv.reader(io.StringIO(out))]
    finally:
        subprocess.run(as_postgres + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def main():
    args = sys.argv[1:]
    points = None
    if args[:1] == ["--points"]:
        points, args = args[1], args[2:]
    features, warnings, duck = args[:3]
    ok = compare("duckdb", duckdb_scores(features, open(duck).read()), warnings)
    if points:
        ok = compare("duckdb points", duckdb_scores(features, open(duck).read(), "points"), points, "points", POINTS_TOLERANCE) and ok
    if not ok:
        sys.exit(1)  # before PostgreSQL, whose absence must not hide this
    if len(args) > 3:
        columns = ("score", "points") if points else ("score",)
        rows = postgres_scores(features, open(args[3]).read(), columns)
        ok = compare("postgres", [r[:2] for r in rows], warnings) and ok
        if points:
            ok = compare("postgres points", [(r[0], r[2]) for r in rows], points, "points", POINTS_TOLERANCE) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
