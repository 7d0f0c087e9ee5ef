"""The core must load without Textual (a static import graph cannot see deferred imports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        "from groundcode import Project\n"
        "import groundcode.project, groundcode.corpus.service, groundcode.coding.service\n"
        "import groundcode.analysis.service, groundcode.exports.service, groundcode.cli\n"
        "assert 'textual' not in sys.modules, 'textual imported by the core'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported at start-up'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_layer_contracts_hold() -> None:
    out = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        cwd=__file__.rsplit("/tests/", 1)[0],
    )
    assert out.returncode == 0, out.stdout + out.stderr
