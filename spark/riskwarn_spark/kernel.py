"""The riskwarn kernel seen from Python: the calls of ``riskwarn::kernel`` (docs/scale-out.md)
over pyarrow tables, through the ``riskwarn`` binary and Arrow IPC files (``riskwarn kernel``).

One object per job holds what every call is made under (policy, model, as-of date, reference
date); it is pickled into Spark's Python workers, which run the binary per bucket.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional

import pyarrow as pa
import pyarrow.ipc as ipc


class KernelError(Exception):
    """A kernel call refused its input (the binary's message; exit code 2) or failed (1)."""

    def __init__(self, message: str, code: int):
        # The exit code travels in the text: a worker's exception reaches the driver as text.
        super().__init__(f"[riskwarn exit {code}] {message}")
        self.message = message
        self.code = code


def _write(table: pa.Table, path: str) -> None:
    with pa.OSFile(path, "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read(path: str) -> pa.Table:
    with pa.memory_map(path) as source:
        return ipc.open_file(source).read_all()


@dataclass
class BinaryKernel:
    """The kernel through ``riskwarn kernel <call>`` (one process per call)."""

    binary: str
    policy: str
    as_of: str
    model: Optional[str] = None
    today: Optional[str] = None
    seed: Optional[int] = None
    scratch: Optional[str] = None

    def _call(self, call: str, inputs: Dict[str, pa.Table], tables: Optional[Dict[str, pa.Table]] = None, args: Optional[List[str]] = None, files: Optional[Dict[str, str]] = None):
        """One call: ``inputs`` go to ``<name>.arrow`` (a name may hold a subdirectory, as
        ``scored/part-0``), ``tables`` to ``tables/``, ``files`` (text) as named. Returns the
        outputs by name (those of ``whole/`` as ``whole/<table>``) and ``meta.json``."""
        work = tempfile.mkdtemp(prefix="riskwarn-kernel-", dir=self.scratch)
        try:
            src, dst = os.path.join(work, "in"), os.path.join(work, "out")
            os.makedirs(os.path.join(src, "tables"))
            for name, table in inputs.items():
                os.makedirs(os.path.dirname(os.path.join(src, name)), exist_ok=True)
                _write(table, os.path.join(src, f"{name}.arrow"))
            for name, table in (tables or {}).items():
                _write(table, os.path.join(src, "tables", f"{name}.arrow"))
            for name, text in (files or {}).items():
                with open(os.path.join(src, name), "w", encoding="utf-8") as f:
                    f.write(text)
            cmd = [self.binary, "--quiet", "kernel", call, "--input", src, "--output", dst, "--policy", self.policy, "--as-of", self.as_of]
            if self.model:
                cmd += ["--model", self.model]
            if self.today:
                cmd += ["--today", self.today]
            if self.seed is not None:
                cmd += ["--seed", str(self.seed)]
            cmd += args or []
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise KernelError(done.stderr.strip().removeprefix("error: ") or f"riskwarn kernel {call} exited with {done.returncode}", done.returncode)
            out = {}
            for sub in ("", "whole"):
                here = os.path.join(dst, sub)
                if os.path.isdir(here):
                    for name in sorted(os.listdir(here)):
                        if name.endswith(".arrow"):
                            out[posixpath.join(sub, name[: -len(".arrow")]) if sub else name[: -len(".arrow")]] = _read(os.path.join(here, name))
            with open(os.path.join(dst, "meta.json"), encoding="utf-8") as f:
                meta = json.load(f)
            return out, meta
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def contract(self) -> list:
        done = subprocess.run([self.binary, "kernel", "contract"], capture_output=True, text=True)
        if done.returncode != 0:
            raise KernelError(done.stderr.strip(), done.returncode)
        return json.loads(done.stdout)

    def previous(self, out: str) -> Optional[List[str]]:
        """The window [from, to) of the previous run's plan in ``out``, if it has one."""
        return self._call("previous", {}, args=["--out", out])[1].get("window")

    def partials(self, tables: Dict[str, pa.Table], inspectors: Optional[pa.Table], window: Optional[List[str]] = None) -> Dict[str, pa.Table]:
        args = ["--window", ",".join(window)] if window else []
        return self._call("partials", {"inspectors": inspectors} if inspectors is not None else {}, tables, args=args)[0]

    def quiet(self, whole: Dict[str, pa.Table], out: str) -> pa.Table:
        return self._call("quiet", {}, whole, args=["--out", out])[0]["quiet"]

    def relations(self, nodes: pa.Table, edges: pa.Table, subjects: pa.Table, present: List[str]):
        out, meta = self._call("relations", {"relation_nodes": nodes, "relation_edges": edges, "subjects": subjects}, args=["--present", ",".join(present)])
        return out["relations"], meta.get("relation_ids_capped", 0)

    def score(self, tables: Dict[str, pa.Table], inspectors: Optional[pa.Table], stats: Dict[str, pa.Table]):
        inputs = dict(stats)
        if inspectors is not None:
            inputs["inspectors"] = inspectors
        out, meta = self._call("score", inputs, tables)
        return out["scored"], meta.get("notices", [])

    def finish(self, parts: Dict[str, pa.Table], whole: Dict[str, pa.Table], facts: dict, out: str) -> dict:
        """The run directory in ``out`` from every bucket's parts (``scored/…``, ``counts/…``,
        ``rejected/…``, ``indicator_rows/…``, ``window_inspections/…``, ``inspectors``,
        ``ranks``); returns ``run_id`` and ``run_dir``."""
        return self._call("finish", parts, whole, args=["--out", out], files={"facts.json": json.dumps(facts, ensure_ascii=False)})[1]
