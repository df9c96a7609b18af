"""
The ``foreman_worker`` SDK for the reference workers: the installed package
when there is one, else the copy in this repository (``python/foreman-worker``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import NoReturn

REPOSITORY_SDK = Path(__file__).resolve().parents[2] / "python" / "foreman-worker"

REQUIREMENTS = (
    "examples/python needs scikit-learn and pandas: apt-get install python3-sklearn python3-pandas "
    "(Debian's /usr/bin/python3), or set FOREMAN_PYTHON to an interpreter that has them"
)


def foreman_worker() -> ModuleType:
    """Imports ``foreman_worker``, from the repository when it is not installed."""
    try:
        return importlib.import_module("foreman_worker")
    except ImportError:
        sys.path.insert(0, str(REPOSITORY_SDK))
    try:
        return importlib.import_module("foreman_worker")
    except ImportError as error:
        raise SystemExit(
            f"cannot import foreman_worker ({error}): install it (pip install ./python/foreman-worker) "
            f"or keep the repository's copy in {REPOSITORY_SDK}"
        ) from error


def is_missing_dependency(error: ImportError) -> bool:
    """Whether the import failed for want of numpy, pandas or scikit-learn."""
    return (error.name or "").split(".")[0] in ("numpy", "pandas", "sklearn")


def exit_missing_dependencies() -> NoReturn:
    """Exits with status 2 and one line on stderr saying what to install."""
    print(REQUIREMENTS, file=sys.stderr)
    raise SystemExit(2)
