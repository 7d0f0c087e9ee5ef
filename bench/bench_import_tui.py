"""Importing 100,000 comments through the TUI import screen, driven headless with Pilot.

    python bench/bench_import_tui.py [--rows 100000] [--out DIR]

It writes a seeded CSV of comments (50-300 characters, Chinese crawl headers:
评论内容, 发布时间, 点赞数, 用户昵称), creates a fresh project with a lead,
adds the file on the import screen and presses ``i``. While the import runs it
records when each progress update reaches the screen and presses a key every
0.3 s, timing how long the app takes to answer it. Printed as JSON:

* ``import_s``: from ``i`` until the result line shows
* ``max_progress_gap_s``: the longest time between two progress updates shown (the
  screen redraws the running file ten times a second, through the commit too)
  (budget: 0.5 s)
* ``key_ms``: median and max time until a key pressed during the import is
  handled (budget: 100 ms)

Standalone on purpose (``bench/run.py`` belongs to the large-project suite).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

CHARS = (
    "健康码行程核酸检测疫情防控数据信息共享平台政务部门社区网格出行复工隐私安全存储销毁申诉绿码黄码"
)


def write_comments(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["评论内容", "发布时间", "点赞数", "用户昵称"])
        for i in range(rows):
            text = "".join(rng.choice(CHARS) for _ in range(rng.randint(50, 300)))
            w.writerow(
                [
                    f"{i}：{text}",
                    f"2021-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00",
                    i % 997,
                    f"u{i % 500}",
                ]
            )


async def drive(db: Path, csv_path: Path) -> dict[str, Any]:
    from groundcode.tui.app import make_app
    from groundcode.tui.screens.import_run import ImportRunScreen

    shown: list[float] = []
    original = ImportRunScreen._progress

    def recorded(self: ImportRunScreen, i: int, done: int, total: int) -> None:
        shown.append(time.perf_counter())
        original(self, i, done, total)

    ImportRunScreen._progress = recorded  # type: ignore[method-assign]
    answered: list[float] = []

    def on_key(self: ImportRunScreen, event: Any) -> None:
        if event.key == "f12":
            answered.append(time.perf_counter())

    ImportRunScreen.on_key = on_key  # type: ignore[attr-defined]
    app = make_app(str(db), "lead", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if app.current_mode == "dashboard":
                break
        await pilot.press("I")
        await pilot.pause(0.5)
        screen = app.screen
        screen.add_paths([csv_path], csv_path.parent)  # type: ignore[attr-defined]
        screen.items[0].type_id = 4  # type: ignore[attr-defined]
        await pilot.pause()
        t0 = time.perf_counter()
        await pilot.press("i")
        run = app.screen
        assert isinstance(run, ImportRunScreen)
        keys: list[float] = []
        from textual import events

        while not run.finished:
            await asyncio.sleep(0.3)
            # A key as the terminal driver delivers it; timed until the screen's handler runs.
            n = len(answered)
            k0 = time.perf_counter()
            app.post_message(events.Key("f12", None))
            while len(answered) == n and not run.finished:
                await asyncio.sleep(0.001)
            if len(answered) > n:
                keys.append(answered[-1] - k0)
        elapsed = time.perf_counter() - t0
        result = run.results[0][0]
    ImportRunScreen._progress = original  # type: ignore[method-assign]
    marks = [t0, *shown]
    gaps = [b - a for a, b in zip(marks, marks[1:], strict=False)]
    return {
        "rows": None,
        "result": result,
        "import_s": round(elapsed, 2),
        "progress_updates": len(shown),
        "max_progress_gap_s": round(max(gaps), 3) if gaps else None,
        "progress_gap_p95_s": round(sorted(gaps)[int(len(gaps) * 0.95)], 3) if gaps else None,
        "keys_pressed": len(keys),
        "key_ms_median": round(statistics.median(keys) * 1000, 1) if keys else None,
        "key_ms_max": round(max(keys) * 1000, 1) if keys else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    from groundcode.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        # Its own config folder: the app remembers opened projects per user, and the
        # researcher's start-screen list must not gain this scratch project.
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        csv_path = out / "comments-100k.csv"
        write_comments(csv_path, args.rows)
        db = out / "import-bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        with Project.create(db) as p:
            p.coding.add_coder("lead", role="lead")
        figures = asyncio.run(drive(db, csv_path))
        figures["rows"] = args.rows
        print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
