"""TUI figures on a project, measured by driving the real app headless with Pilot.

    python bench/bench_tui.py bench/data/bench.db

* start: a fresh interpreter imports the app and shows the first screen (dashboard)
* open a document: ``open_document`` until the coding screen shows its text
* apply a code: the coding screen's apply until "saved" (the commit) is shown
* corpus search: the corpus screen's search until the hits are shown
* memory: peak resident set size of the process after the run
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import snapshot, vmhwm_mb  # noqa: E402

START_CODE = r"""
import time, json, asyncio, sys
t0 = time.perf_counter()
from groundcode.tui.app import make_app
from textual.screen import Screen
# The first paint: the dashboard's first compositor refresh while it is the current screen.
# (Pilot's pause waits for the whole process to be idle, workers included, so it would
# report when the dashboard has filled in, not when it was first shown.)
painted = {}
_refresh = Screen._compositor_refresh
def _hook(self):
    _refresh(self)
    if "t" not in painted and type(self).__name__ == "DashboardScreen" and self.is_current:
        painted["t"] = time.perf_counter() - t0
Screen._compositor_refresh = _hook
async def main():
    app = make_app(sys.argv[1], "lead")
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(20000):
            await pilot.pause()
            if "t" in painted and app.started:
                funnel = app.screen.query_one("#funnel")
                if not funnel.loading and funnel.row_count:
                    break
        filled = time.perf_counter() - t0
        print(json.dumps({"first_screen": painted.get("t"), "filled": filled}))
asyncio.run(main())
"""


async def _until(pilot: Any, check: Any, limit: float = 30.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        await pilot.pause(0.005)
        if check():
            return time.perf_counter() - t0
    raise TimeoutError("the TUI did not get there in time")


async def _drive(db: str, document: str, concept: str, term: str) -> dict[str, float]:
    from textual.widgets import Static

    from groundcode.tui.app import make_app

    app = make_app(db, "coder_a")
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        # Warm: the first visit builds the coding screen; measure a later open, as a coder works.
        app.open_document(document)
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen: Any = app.screen
        other = document.rsplit("-", 1)[0] + "-" + str(int(document.rsplit("-", 1)[1]) - 1)
        t0 = time.perf_counter()
        app.open_document(other)
        await _until(
            pilot, lambda: getattr(app.screen, "number", None) == other and not app.workers._workers
        )
        out["open_document"] = time.perf_counter() - t0
        screen = app.screen
        saved = screen.query_one("#saved", Static)
        applies = []
        # Five concepts on the same passage: the median, as for the service figures.
        stem, first = concept.rstrip("0123456789"), concept[len(concept.rstrip("0123456789")) :]
        for k in range(5):
            name = f"{stem}{int(first) + k:0{len(first)}d}"
            await pilot.pause(0.05)
            t0 = time.perf_counter()
            screen.apply_concept(name)
            await _until(pilot, lambda: "✓" in str(saved.render()))
            applies.append(time.perf_counter() - t0)
        out["apply_code"] = statistics.median(applies)
        await app.switch_mode("corpus")
        await pilot.pause()
        await app.workers.wait_for_complete()
        corpus: Any = app.screen
        from textual.widgets import DataTable

        table = corpus.query_one("#docs", DataTable)
        # Search once the list is on screen, as a user would (the rows fill in batches).
        await _until(pilot, lambda: table.row_count > 0 and not table.loading)
        searches = []
        for _ in range(3):
            await pilot.pause(0.3)
            t0 = time.perf_counter()
            corpus.run_search(term)
            await app.workers.wait_for_complete()
            await pilot.pause()
            searches.append(time.perf_counter() - t0)
            corpus.action_close_hits()
        out["corpus_search"] = statistics.median(searches)
    out["rss_mb"] = vmhwm_mb()
    return out


def measure(
    db: Path, *, document: str = "2-1500", concept: str = "概念010", term: str = "健康码互认"
) -> list[tuple[str, float, str, str]]:
    # The app remembers opened projects per user; a bench must not add its scratch
    # files to the researcher's own start-screen list, so it runs with its own config.
    # It codes a passage, so it works on a copy: the reference project stays as built.
    with (
        tempfile.TemporaryDirectory(prefix="gc-bench-config-") as config,
        tempfile.TemporaryDirectory(dir=Path(db).parent, prefix="gc-bench-tui-") as scratch,
    ):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": config}
        copy = snapshot(Path(db), Path(scratch) / Path(db).name)
        return _measure(copy, env, document=document, concept=concept, term=term)


def _measure(
    db: Path, env: dict[str, str], *, document: str, concept: str, term: str
) -> list[tuple[str, float, str, str]]:
    starts = []
    filled = []
    for _ in range(3):
        proc = subprocess.run(
            [sys.executable, "-c", START_CODE, str(db)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        starts.append(got["first_screen"])
        filled.append(got["filled"])
    code = (
        f"import asyncio, json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.bench_tui import _drive; "
        f"print(json.dumps(asyncio.run(_drive({str(db)!r}, {document!r}, {concept!r}, {term!r}))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    return [
        (
            "TUI start to first screen (dashboard painted, median of 3)",
            statistics.median(starts),
            "s",
            "≤ 0.8 s",
        ),
        ("TUI start until the dashboard's funnel is filled", statistics.median(filled), "s", ""),
        ("TUI open a document (coding screen)", r["open_document"], "s", "≤ 0.1 s"),
        ("TUI apply a code until shown saved (median of 5)", r["apply_code"], "s", "≤ 0.05 s"),
        (
            f"TUI corpus search '{term}' until 200 hits shown (median of 3)",
            r["corpus_search"],
            "s",
            "",
        ),
        ("TUI peak memory", r["rss_mb"], "MB", "≤ 400 MB"),
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "data" / "bench.db"
    for name, value, unit, budget in measure(target):
        print(f"{name}: {value:.3f} {unit} (budget {budget})")
