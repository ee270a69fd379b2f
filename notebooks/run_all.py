#!/usr/bin/env python3
"""Executes every notebook in this directory top to bottom against one run directory.

    python3 notebooks/run_all.py RUN_DIR [--timeout SECONDS] [--data DIR] [--save DIR] [NOTEBOOK.ipynb ...]

Sets RISKWARN_RUN (and RISKWARN_DATA with --data) and RISKWARN_BATCH=1 (matplotlib's Agg
backend: figures are drawn, then closed) for the kernels; each cell may take at most
--timeout seconds (default 120). Nothing is written back: the committed notebooks stay
without outputs (--save DIR writes the executed copies there, to read or share). Exits 1 at the first cell that raises, printing the notebook, the cell and
the error; 0 when every notebook ran. tests/cli/notebooks.rs runs it in CI.
"""

import argparse
import os
import pathlib
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

HERE = pathlib.Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=pathlib.Path, help="a riskwarn run directory (out/<run_id> or out/latest)")
    ap.add_argument("notebooks", nargs="*", type=pathlib.Path, help="default: every notebooks/*.ipynb")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    ap.add_argument("--data", type=pathlib.Path, help="the run's --data directory (default data/sample)")
    ap.add_argument("--save", type=pathlib.Path, help="write the executed notebooks into this directory")
    args = ap.parse_intermixed_args()

    os.environ["RISKWARN_RUN"] = str(args.run.resolve())
    os.environ["RISKWARN_BATCH"] = "1"
    os.environ.setdefault("RISKWARN_ROOT", str(HERE.parent))
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")  # no __pycache__ beside the notebooks
    if args.data:
        os.environ["RISKWARN_DATA"] = str(args.data.resolve())
    notebooks = args.notebooks or sorted(HERE.glob("*.ipynb"))
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.resolve().parent)}})
        start = time.monotonic()
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError) as e:
            error = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # the traceback's terminal colours
            print(f"{path.name}: FAILED after {time.monotonic() - start:.1f} s\n{error}", file=sys.stderr)
            return 1
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, args.save / path.name)
        cells = sum(c.cell_type == "code" for c in nb.cells)
        print(f"{path.name}: {cells} code cells ran in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
