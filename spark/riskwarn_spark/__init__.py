"""riskwarn on Spark: the Rust kernel per bucket of subjects inside ``groupBy(bucket).applyInArrow``."""

from .kernel import BinaryKernel, KernelError
from .runner import BadInput, Options, run

__all__ = ["BinaryKernel", "KernelError", "BadInput", "Options", "run"]
