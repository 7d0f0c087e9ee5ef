"""From an empty folder to the exported tables with keys only, against the CLI.

The same study is run twice: once through the real app (Pilot, keys only)
and once through the CLI. The app creates the project, imports the corpus
(the GB18030 comments with their columns mapped), screens, reviews reposts,
samples, splits, adds people, imports the codebook and assigns; then the
lead turns blind mode on, hands over to each coder with the person switch
(``w``), each codes a passage of the first documents in their queue and
marks them done (``d``), and the lead switches back (blind mode still on)
to compute agreement, record the holdout start (``g``), run saturation and
export the tables (``e``). The CLI repeats the same steps on its own
project; the funnel, split, assignments, agreement figures, saturation
verdict and curve, and every cell of the exported tables must be equal.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from groundcode.cli import main as cli
from groundcode.project import Project
from groundcode.tui.screens.agreement import AgreementScreen
from groundcode.tui.screens.coding import CodingScreen
from groundcode.tui.screens.export_dialog import ExportScreen
from groundcode.tui.screens.import_run import ImportRunScreen
from groundcode.tui.screens.saturation import SaturationScreen
from groundcode.tui.screens.start import StartScreen
from groundcode.tui.screens.who import SwitchUserScreen, WhoScreen
from groundcode.tui.widgets.passage_view import PassageView
from tests.tui.conftest import MakeTestApp, settle, sync
from tests.tui.test_import import goto

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpora" / "health-code"
BOOK = ROOT / "codebooks" / "health-code.yaml"
FOLDERS = ("1-policy", "2-media", "3-academic")
KEYWORDS = "码,疫,核酸,风险,健康,隐私,数据,信息"
# What each coder applies to the first passage of their first two queued documents:
# they agree on the first and disagree on the second.
CONCEPTS = {"lin": ("危及生命安全", "人传人现象"), "zhou": ("危及生命安全", "传播途径多")}
# Figures compared between the app and the CLI (the rest are times and paths).
AGREEMENT_KEYS = ("coders", "n_units", "kappa", "kappa_kind", "percent_agreement", "per_code")


def _copy_corpus(work: Path) -> None:
    for folder in FOLDERS:
        shutil.copytree(CORPUS / folder, work / folder)
    (work / "4-selfmedia").mkdir()
    shutil.copy(CORPUS / "4-selfmedia" / "comments-gb18030.csv", work / "4-selfmedia")


def _cli_json(db: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    """One CLI command with --json against ``db``, as the lead."""
    capsys.readouterr()
    code = cli(["--db", str(db), "--as", "chen", *args, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert isinstance(data, dict)
    return data


def _by_cli(
    work: Path,
    db: Path,
    coded: dict[str, list[tuple[str, int]]],
    capsys: pytest.CaptureFixture[str],
) -> dict[str, object]:
    def run(*args: str, who: str = "chen") -> str:
        capsys.readouterr()
        code = cli(["--db", str(db), "--as", who, *args])
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
    funnel = json.loads(run("corpus", "--json"))
    run("blind", "off")
    run("blind", "on")
    for coder, concepts in CONCEPTS.items():
        queue = [d["number"] for d in json.loads(run("queue", "--json", who=coder))["documents"]]
        # The app's coder reached these with `t` (next in my queue, after the document the
        # coding screen opened first): the first of the queue, coded in the app's order.
        assert sorted(number for number, _ in coded[coder]) == queue[: len(concepts)]
        for (number, passage), concept in zip(coded[coder], concepts, strict=True):
            run("code", number, concept, "--passage", str(passage), who=coder)
            run("done", number, who=coder)
    agreement = json.loads(run("agree", "--json"))
    run("saturation", "begin")
    saturation = json.loads(run("saturation", "--json"))
    run("export", "tables", "--lang", "en", "--output", str(db.parent / "cli-exports"))
    return {"funnel": funnel, "agreement": agreement, "saturation": saturation}


async def _switch_to(app, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    """The person switch by keys: ``ctrl+o``, then down to ``name`` and Enter."""
    await pilot.press("ctrl+o")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, SwitchUserScreen)
    options = screen.query_one(OptionList)
    names = [options.get_option_at_index(i).id for i in range(options.option_count)]
    await pilot.press("home", *["down"] * names.index(name), "enter")
    await settle(app, pilot, rounds=5)
    assert app.project.user == name


def _tables(folder: Path) -> list[list[list[object]]]:
    from openpyxl import load_workbook

    book = load_workbook(folder / "tables.xlsx")
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]


def _comparable_saturation(data: dict[str, object]) -> dict[str, object]:
    """The verdict and its figures, without the moments (the holdout start, coding times)."""
    drop = {"holdout_start", "created_after_start", "codings_before_start", "reason_keys"}
    return {k: v for k, v in data.items() if k not in drop}


@sync
async def test_empty_folder_to_the_exported_tables_with_keys_only_equals_the_cli(
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
        # Blind mode is on by itself once two coders exist; the lead turns it off and on
        # again (an explicit setting). Then each coder codes through the person switch.
        assert app.blind
        await pilot.press("b")
        await settle(app, pilot, rounds=4)
        assert not app.blind
        await pilot.press("b")
        await settle(app, pilot, rounds=4)
        assert app.blind
        coded: dict[str, list[tuple[str, int]]] = {}
        for coder, concepts in CONCEPTS.items():
            await _switch_to(app, pilot, coder)
            assert not app.is_lead and app.blind
            await pilot.press("3")
            await settle(app, pilot, rounds=4)
            coding = app.screen
            assert isinstance(coding, CodingScreen)
            coded[coder] = []
            for concept in concepts:
                await pilot.press("t")  # next in my queue
                await settle(app, pilot, rounds=4)
                passage = coding.query_one(PassageView).passage
                assert coding.number is not None and passage is not None
                coded[coder].append((coding.number, passage.idx))
                await pilot.press("c", *concept)
                await settle(app, pilot)
                await pilot.press("enter")
                await settle(app, pilot, rounds=4)
                assert concept in {c.concept for c in coding.codings}
                await pilot.press("d")
                await settle(app, pilot, rounds=4)
            # In blind mode a coder's agreement screen says only that it is the lead's.
            await pilot.press("5")
            await settle(app, pilot, rounds=4)
            assert isinstance(app.screen, AgreementScreen) and app.screen.blind_for_me()
        # The lead comes back, blind mode still on, and sees agreement.
        await _switch_to(app, pilot, "chen")
        assert app.is_lead and app.blind
        await pilot.press("5")
        await settle(app, pilot, rounds=6)
        agreement = app.screen
        assert isinstance(agreement, AgreementScreen) and not agreement.blind_for_me()
        assert agreement.result is not None
        tui_agreement = agreement.result.to_json()
        # holdout start and saturation
        await pilot.press("6")
        await settle(app, pilot, rounds=6)
        saturation = app.screen
        assert isinstance(saturation, SaturationScreen)
        await pilot.press("g")
        await settle(app, pilot, rounds=6)
        assert saturation.report is not None and saturation.report.holdout_start is not None
        tui_saturation = saturation.report.to_json()
        # the tables, by keys: e, then Tab to the folder field, type it, Enter
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, ExportScreen)
        for _ in range(12):
            if isinstance(app.focused, Input):
                break
            await pilot.press("tab")
        assert isinstance(app.focused, Input) and app.focused.id == "export-folder"
        await pilot.press("end", "ctrl+u", *str(work / "tui-exports"), "enter")
        await settle(app, pilot, rounds=6)
        assert not isinstance(app.screen, ExportScreen)
    # The CLI reads the very project the app made: the same figures the screens showed.
    same_agreement = _cli_json(db, capsys, "agree")
    assert {k: same_agreement[k] for k in AGREEMENT_KEYS} == {
        k: tui_agreement[k] for k in AGREEMENT_KEYS
    }
    same_saturation = _cli_json(db, capsys, "saturation")
    assert same_saturation["holdout_start"] == tui_saturation["holdout_start"]
    assert _comparable_saturation(same_saturation) == _comparable_saturation(tui_saturation)
    same_funnel = _cli_json(db, capsys, "corpus")
    with Project.open(db, user="chen") as p:
        shown = json.loads(json.dumps(p.corpus.funnel()))
    # (the CLI's JSON leaves out zero "unsplit" counts, the funnel keeps them)
    assert {k: v for k, v in same_funnel.items() if k != "by_type"} == {
        k: shown[k] for k in same_funnel if k != "by_type"
    }
    # ... and the same steps through the CLI on a project of its own give them too.
    cli_db = tmp_path / "cli.db"
    by_cli = _by_cli(work, cli_db, coded, capsys)
    cli_funnel = by_cli["funnel"]
    assert isinstance(cli_funnel, dict)
    cli_agreement = by_cli["agreement"]
    assert isinstance(cli_agreement, dict)
    assert {k: tui_agreement[k] for k in AGREEMENT_KEYS} == {
        k: cli_agreement[k] for k in AGREEMENT_KEYS
    }
    assert tui_agreement["n_units"] > 0 and tui_agreement["coders"] == ["lin", "zhou"]
    cli_saturation = by_cli["saturation"]
    assert isinstance(cli_saturation, dict)
    assert _comparable_saturation(tui_saturation) == _comparable_saturation(cli_saturation)
    assert _tables(work / "tui-exports") == _tables(tmp_path / "cli-exports")
    with Project.open(db, user="chen") as p, Project.open(cli_db, user="chen") as q:
        tui_funnel = p.corpus.funnel()
        assert {k: tui_funnel[k] for k in cli_funnel if k != "by_type"} == {
            k: v for k, v in cli_funnel.items() if k != "by_type"
        }
        assert tui_funnel == q.corpus.funnel()
        assert p.corpus.documents()["split"].tolist() == q.corpus.documents()["split"].tolist()
        assert {c.name: c.role for c in p.coding.coders()} == {
            c.name: c.role for c in q.coding.coders()
        }
        mine = p.progress.progress()[["coder", "assigned", "done"]].to_dict("records")
        theirs = q.progress.progress()[["coder", "assigned", "done"]].to_dict("records")
        assert mine == theirs
        assert len(p.codebook.concepts_frame()) == len(q.codebook.concepts_frame())
