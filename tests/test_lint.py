"""The codebase stays ruff- and mypy-clean (the same checks as `./dev lint`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, cwd=ROOT, check=False)


def test_ruff() -> None:
    out = _run(str(BIN / "ruff"), "check", "groundcode", "tests", "bench")
    assert out.returncode == 0, out.stdout[-3000:]


def test_mypy() -> None:
    out = _run(str(BIN / "mypy"))
    assert out.returncode == 0, out.stdout[-3000:]
