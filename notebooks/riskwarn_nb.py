"""Shared set-up for the analysts' notebooks (notebooks/*.ipynb).

Which run: ``RISKWARN_RUN`` (a run directory, or an out directory's ``latest``), default
``<root>/out/latest`` — where ``cargo run --release -- run`` in the repository root writes.
Which repository: ``RISKWARN_ROOT``, default the parent of this directory.

Plots: inside Jupyter the inline backend shows them; when not interactive (no IPython, or
``RISKWARN_BATCH=1`` as ``run_all.py`` sets it) matplotlib uses Agg and every figure is drawn,
then closed. Chinese labels need a CJK font: when "Noto Sans CJK SC" is installed it is the
fallback after DejaVu Sans and ``label(zh, en)`` gives the Chinese text; otherwise plot labels
stay English. A missing font never fails a notebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import sys
import warnings

import matplotlib

BATCH = os.environ.get("RISKWARN_BATCH") == "1" or "IPython" not in sys.modules
if BATCH:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402

ROOT = pathlib.Path(os.environ.get("RISKWARN_ROOT") or pathlib.Path(__file__).resolve().parent.parent).resolve()

CJK_FONT = "Noto Sans CJK SC"
CJK = any(f.name == CJK_FONT for f in font_manager.fontManager.ttflist)
if CJK:
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = ["DejaVu Sans", CJK_FONT]
warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
plt.rcParams["figure.dpi"] = 100
plt.rcParams["axes.unicode_minus"] = False
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 80)

LEVELS = ["red", "orange", "yellow", "blue"]
LEVEL_COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#e6c300", "blue": "#1f77b4"}
GRADES = ["A", "B", "C", "D"]
GRADE_COLOURS = {"A": "#2ca02c", "B": "#98df8a", "C": "#ffbb78", "D": "#d62728"}


def label(zh: str, en: str) -> str:
    """The Chinese text where a CJK font can draw it, else the English one."""
    return zh if CJK else en


def show(fig=None) -> None:
    """Shows a figure (Jupyter) or, in batch, draws it (so a broken plot fails) and closes it."""
    fig = fig or plt.gcf()
    fig.tight_layout()
    if BATCH:
        fig.canvas.draw()
        plt.close(fig)
    else:
        plt.show()


def run_dir() -> pathlib.Path:
    """The run directory: RISKWARN_RUN, else <root>/out/latest (a symlink, or a file naming the run)."""
    path = pathlib.Path(os.environ.get("RISKWARN_RUN") or ROOT / "out" / "latest")
    if path.is_file() and path.name == "latest":  # Windows without symlinks: the run id in a file
        path = path.parent / path.read_text(encoding="utf-8").strip()
    path = path.resolve()
    if not (path / "manifest.json").is_file():
        raise FileNotFoundError(
            f"no riskwarn run at {path}: run `cargo run --release -- run` in {ROOT} "
            "(it writes out/<run_id>/ and out/latest), or set RISKWARN_RUN to a run directory"
        )
    return path


def manifest(run: pathlib.Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def data_dir() -> pathlib.Path:
    """The run's input data: RISKWARN_DATA, default <root>/data/sample (the README's run reads it).
    The manifest names each input file relative to it, with its SHA-256."""
    return pathlib.Path(os.environ.get("RISKWARN_DATA") or ROOT / "data" / "sample").resolve()


def read_table(m: dict, table: str, columns=None) -> pd.DataFrame | None:
    """One input table of the run (every file of it the manifest lists, read from data_dir()),
    or None — saying why — when the run had none or the files are not the ones it read."""
    files = [i for i in m["inputs"] if pathlib.PurePosixPath(i["file"]).parts[0].split(".")[0] == table]
    if not files:
        print(f"the run read no {table} table")
        return None
    frames = []
    for i in files:
        path = data_dir() / i["file"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != i["sha256"]:
            print(f"{path} is missing or not the file the run read (SHA-256 differs): set RISKWARN_DATA to the run's --data")
            return None
        frames.append(pd.read_parquet(path, columns=columns))
    return pd.concat(frames, ignore_index=True)


DEPARTMENTS_EN = {
    "市场监督管理局": "market regulation",
    "卫生健康委员会": "health",
    "应急管理局": "emergency mgmt",
    "生态环境局": "ecology & env.",
    "交通运输局": "transport",
    "农业农村局": "agriculture",
    "住房和城乡建设局": "housing & constr.",
    "文化和旅游局": "culture & tourism",
}


def dept(name: str) -> str:
    """A department's name for a plot: itself with a CJK font, else its English name."""
    return name if CJK else DEPARTMENTS_EN.get(name, name if name.isascii() else "dept " + hashlib.sha256(name.encode()).hexdigest()[:4])


def feature_registry() -> pd.DataFrame:
    """feature → family (business concept), dimension, labels, from docs/features.md (generated
    from the feature registry in src/features/ and checked by a test)."""
    rows = []
    text = (ROOT / "docs" / "features.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        m = re.match(r"^\| `([^`]+)` \|(.*)\|\s*$", line)
        if not m:
            continue
        cells = [c.strip() for c in m.group(2).split("|")]
        family, dimension, kind, direction, public, labels = cells[:6]
        zh, _, en = labels.partition(" / ")
        rows.append(dict(feature=m.group(1), family=family, dimension=dimension, kind=kind,
                         direction=direction, public=public, label_zh=zh, label_en=en))
    return pd.DataFrame(rows)


def concepts(features: pd.Series, registry: pd.DataFrame) -> pd.DataFrame:
    """family and dimension for each feature; features missing from the registry's document
    (another policy's licences or indicators) take their family from the name's prefix."""
    reg = registry.set_index("feature")
    prefix = registry.assign(p=registry.feature.str.split("_").str[0]).groupby("p")[["family", "dimension"]].first()
    def one(f):
        if f in reg.index:
            return reg.loc[f, "family"], reg.loc[f, "dimension"]
        p = f.split("_")[0]
        if p in prefix.index:
            return prefix.loc[p, "family"], prefix.loc[p, "dimension"]
        return "other", "other"
    fam = [one(f) for f in features]
    return pd.DataFrame(fam, columns=["family", "dimension"], index=features.index)


def short(concept: str) -> str:
    """'inspections (行政检查)' → '行政检查' with a CJK font, else 'inspections'."""
    m = re.match(r"^(.*?) \((.*)\)$", concept)
    if m:
        return label(m.group(2), m.group(1))
    zh, _, en = concept.partition(" / ")
    return label(zh, en or zh)
