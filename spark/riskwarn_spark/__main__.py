"""``python -m riskwarn_spark run …``: the nightly job on Spark (see README.md)."""

from __future__ import annotations

import argparse
import re
import sys

from .runner import BadInput, Options, run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="riskwarn_spark", description="riskwarn's nightly job on Spark, the Rust kernel per bucket")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="validate, score, rank and plan every subject; write a run directory")
    r.add_argument("--data", required=True, help="data directory (any Hadoop path: file:, hdfs:, s3a: …)")
    r.add_argument("--out", required=True, help="output directory (local) of the run directories")
    r.add_argument("--model", required=True)
    r.add_argument("--policy", default="riskwarn.toml")
    r.add_argument("--as-of", required=True, help="as-of date T (YYYY-MM-DD)")
    r.add_argument("--today", help="dates after this day are rejected as in the future (default: today)")
    r.add_argument("--seed", type=int)
    r.add_argument("--buckets", type=int, default=16)
    r.add_argument("--binary", default="riskwarn", help="the riskwarn binary every worker runs")
    r.add_argument("--master", default=None, help="Spark master (default: the session's, e.g. from spark-submit)")
    r.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting (repeatable), e.g. spark.driver.memory=8g")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("riskwarn")
    if args.master:
        builder = builder.master(args.master)
    for kv in args.conf:
        key, sep, value = kv.partition("=")
        if not sep:
            parser.error(f"--conf {kv}: expected KEY=VALUE")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    opts = Options(
        data=args.data, out=args.out, policy=args.policy, model=args.model, as_of=args.as_of, binary=args.binary, buckets=args.buckets, today=args.today, seed=args.seed
    )
    try:
        print(run(spark, opts))
        return 0
    except BadInput as e:
        print(f"riskwarn_spark: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        # A worker's KernelError reaches the driver inside Spark's own exception, as text.
        code, message = kernel_failure(str(e))
        print(f"riskwarn_spark: error: {message or e}", file=sys.stderr)
        return code
    finally:
        spark.stop()


def kernel_failure(text: str):
    """The exit code (2 bad input, 1 otherwise) and the kernel's message in an exception's text."""
    m = re.search(r"\[riskwarn exit (\d+)\] ([^\n]*)", text)
    if not m:
        return 1, None
    return (2 if m.group(1) == "2" else 1), m.group(2).strip()


if __name__ == "__main__":
    sys.exit(main())
