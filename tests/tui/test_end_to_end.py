"""From an empty folder to a screened, split, staffed project with keys only, against the CLI.

The same study is run twice: once through the real app (Pilot, keys only)
and once through the CLI; the funnels, the split and the assignments must be
equal. (Coding as each coder, done marks, agreement, the holdout start,
saturation and the table export are not yet driven from here.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from groundcode.cli import main as cli
from groundcode.project import Project
from groundcode.tui.screens.import_run import ImportRunScreen
from groundcode.tui.screens.start import StartScreen
from groundcode.tui.screens.who import WhoScreen
from tests.tui.conftest import MakeTestApp, settle, sync
from tests.tui.test_import import goto

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpora" / "health-code"
BOOK = ROOT / "codebooks" / "health-code.yaml"
FOLDERS = ("1-policy", "2-media", "3-academic")
KEYWORDS = "码,疫,核酸,风险,健康,隐私,数据,信息"


def _copy_corpus(work: Path) -> None:
    for folder in FOLDERS:
        shutil.copytree(CORPUS / folder, work / folder)
    (work / "4-selfmedia").mkdir()
    shutil.copy(CORPUS / "4-selfmedia" / "comments-gb18030.csv", work / "4-selfmedia")


def _by_cli(work: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    def run(*args: str) -> str:
        capsys.readouterr()
        code = cli(["--db", str(db), "--as", "chen", *args])
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out

    run("init", "--name", "健康码研究")
    run("coder", "add", "chen", "--role", "lead")
    for i, folder in enumerate(FOLDERS, start=1):
        files = sorted(str(p) for p in (work / folder).iterdir())
        run("import", *files, "--type", str(i))
    run("import", str(work / "4-selfmedia" / "comments-gb18030.csv"), "--type", "4")
    run("screen", "--keywords", KEYWORDS, "--any", "--min-chars", "8")
    run("dedup", "--threshold", "0.8")
    run(
        "sample",
        "--type",
        "4",
        "--n",
        "120",
        "--stratify-by",
        "views",
        "--bins",
        "3",
        "--seed",
        "11",
    )
    run("split")
    run("coder", "add", "lin")
    run("coder", "add", "zhou")
    run("coder", "add", "wu", "--role", "lead")
    run("codebook", "import", str(BOOK))
    run("assign", "--coders", "lin,zhou", "--split", "build")
    return json.loads(run("corpus", "--json"))


@sync
async def test_empty_folder_to_a_staffed_project_with_keys_only_equals_the_cli(
    tmp_path: Path,
    make_test_app: MakeTestApp,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "study"
    work.mkdir()
    _copy_corpus(work)
    monkeypatch.chdir(work)
    db = work / "groundcode.db"
    app = make_test_app(db, None, lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, StartScreen)
        await pilot.press("n", *"study", "enter")
        await settle(app, pilot)
        await pilot.press("enter")  # ./groundcode.db
        await settle(app, pilot, rounds=6)
        assert isinstance(app.screen, WhoScreen)
        await pilot.press("a", *"chen", "enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot, rounds=6)
        assert app.is_lead and app.project.user == "chen"
        # import: three folders of files, then the GB18030 comments with their columns
        await pilot.press("I")
        await settle(app, pilot)
        for folder in FOLDERS:
            await goto(pilot, work / folder)
            await pilot.press("a")
        await goto(pilot, work / "4-selfmedia" / "comments-gb18030.csv")
        await pilot.press("a")
        screen = app.screen
        n = len(screen.items)  # type: ignore[attr-defined]
        await pilot.press("tab", *["down"] * (n - 1), "m")
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        await pilot.press("i")
        await settle(app, pilot, rounds=8)
        assert isinstance(app.screen, ImportRunScreen) and app.screen.finished
        await pilot.press("enter")
        await settle(app, pilot, rounds=5)
        assert not any(i.failed for i in screen.items)  # type: ignore[attr-defined]
        # screening, reposts, sample, split
        await pilot.press("S")
        await settle(app, pilot)
        await pilot.press("k", *KEYWORDS, "enter")
        await settle(app, pilot)
        await pilot.press("c", *"8", "enter")
        await settle(app, pilot)
        await pilot.press("x", "y")
        await settle(app, pilot, rounds=5)
        await pilot.press("D")
        await settle(app, pilot)
        await pilot.press("minus", "minus")
        await settle(app, pilot)
        await pilot.press("x", "y")
        await settle(app, pilot, rounds=5)
        await pilot.press("P")
        await settle(app, pilot)
        await pilot.press("n", *"120", "enter")
        await settle(app, pilot)
        await pilot.press("b", *["backspace"] * 3, *"3", "enter")
        await settle(app, pilot)
        await pilot.press("d", *"11", "enter")
        await settle(app, pilot)
        await pilot.press("s", "y")
        await settle(app, pilot, rounds=5)
        await pilot.press("p")
        await settle(app, pilot, rounds=5)
        # people, codebook, assignments
        await pilot.press("C")
        await settle(app, pilot)
        await pilot.press("a", *"lin", "enter")
        await settle(app, pilot)
        await pilot.press("a", *"zhou", "enter")
        await settle(app, pilot)
        await pilot.press("A", *"wu", "enter")
        await settle(app, pilot)
        await pilot.press("c", *str(BOOK), "enter")
        await settle(app, pilot)
        await pilot.press("g", *["backspace"] * 40, *"lin,zhou", "enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot, rounds=5)
    cli_db = tmp_path / "cli.db"
    by_cli = _by_cli(work, cli_db, capsys)
    with Project.open(db, user="chen") as p, Project.open(cli_db, user="chen") as q:
        tui_funnel = p.corpus.funnel()
        assert {k: tui_funnel[k] for k in by_cli if k != "by_type"} == {
            k: v for k, v in by_cli.items() if k != "by_type"
        }
        assert tui_funnel == q.corpus.funnel()
        assert p.corpus.documents()["split"].tolist() == q.corpus.documents()["split"].tolist()
        assert {c.name: c.role for c in p.coding.coders()} == {
            c.name: c.role for c in q.coding.coders()
        }
        mine = p.progress.progress()[["coder", "assigned"]].to_dict("records")
        theirs = q.progress.progress()[["coder", "assigned"]].to_dict("records")
        assert mine == theirs
        assert len(p.codebook.concepts_frame()) == len(q.codebook.concepts_frame())
