"""Text is data: markup and terminal escapes in imported text never act on the output.

A CSV row titled ``[/]标题`` used to crash ``documents`` (Rich read it as a
closing tag); a concept named ``[/x]`` broke ``codebook show``, ``agree``,
``words --by code`` and ``memo list`` for everyone; ``ESC ] 0;PWNED BEL`` and
``ESC [2J`` in a comment retitled the terminal and cleared it. Each command
below must exit 0, print the markup literally and never emit a raw control
character; ``--json`` output keeps the original text (as JSON escapes).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from groundcode.domain.safe_text import visible, xml_safe
from groundcode.project import Project
from tests.cli.conftest import cli_call

HOSTILE = "评论\x1b]0;PWNED\x07正文\x1b[2J结束\u202e"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "p.db"
    csv = tmp_path / "c.csv"
    csv.write_text(
        "title,text,author\n"
        f'[/]标题,"{HOSTILE}",[b]作者\n'
        "[bold red]第二[/],健康码数据共享与互认。,x\n",
        encoding="utf-8",
    )
    with Project.create(path) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("[b]lin")
        lead.coding.add_coder("zhou")
        lead.corpus.import_files([csv], type=4)
        lin, zhou = p.as_user("[b]lin"), p.as_user("zhou")
        for who in (lin, zhou):
            who.coding.apply("4-1", "[/x]", passage=1)
            who.coding.apply("4-2", "[/x]", passage=1)
            who.progress.done(["4-1", "4-2"])
        lin.coding.add_memo("document", "4-1", f"备忘 {HOSTILE}")
        lin.coding.add_memo("concept", "[/x]", "[/]概念备忘")
    return path


COMMANDS = [
    ("documents",),
    ("show", "4-1"),
    ("search", "正文"),
    ("coder", "list"),
    ("status",),
    ("codebook", "show"),
    ("agree", "--coders", "[b]lin,zhou", "--judged", "coded"),
    ("words", "--by", "code"),
    ("memo", "list"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_human_output_shows_text_and_never_acts(
    db: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, out, err = cli_call(capsys, "--db", str(db), "--as", "chen", *args)
    assert code == 0, err
    assert not RAW_CONTROL.search(out), repr(out[:400])
    assert not RAW_CONTROL.search(err), repr(err)
    if args[0] == "documents":
        assert "[/]标题" in out and "[bold red]第二[/]" in out
    if args[0] == "show":
        assert "\\u001b]0;PWNED\\u0007" in out
    if args[:2] == ("codebook", "show") or args[0] == "words":
        assert "[/x]" in out
    if args[:2] == ("coder", "list"):
        assert "[b]lin" in out


@pytest.mark.parametrize(
    "args",
    [
        ("documents", "--json"),
        ("show", "4-1", "--json"),
        ("search", "正文", "--json"),
        ("memo", "list", "--json"),
    ],
    ids=lambda a: " ".join(a),
)
def test_json_output_keeps_the_text_exactly(
    db: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, out, err = cli_call(capsys, "--db", str(db), "--as", "chen", *args)
    assert code == 0, err
    assert not RAW_CONTROL.search(out)
    data = json.loads(out)
    text = json.dumps(data, ensure_ascii=False)
    assert "[/]" in text or "正文" in text


def test_visible_and_xml_safe() -> None:
    assert visible("a\x1b[2Jb") == "a\\u001b[2Jb"
    assert visible("行一\n行二\t") == "行一\n行二\t"
    assert xml_safe("定义\x07\x1b结束\n") == "定义结束\n"


def test_docx_and_xlsx_exports_drop_what_xml_cannot_hold(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yml = tmp_path / "cb.yaml"
    yml.write_text(
        "relation_classes:\n  - name: 情境\n    main_categories:\n      - number: '1'\n"
        "        name: 突发\n        categories:\n          - number: '1'\n"
        '            name: 危害性\n            definition: "坏\\x07定义\\x1b[2J"\n'
        "            concepts: [危及生命]\n",
        encoding="utf-8",
    )
    base = ("--db", str(db), "--as", "chen")
    assert cli_call(capsys, *base, "codebook", "import", str(yml))[0] == 0
    code, _out, err = cli_call(
        capsys, *base, "export", "tables", "--format", "docx", "-o", str(tmp_path / "t")
    )
    assert code == 0, err
    code, _out, err = cli_call(
        capsys, *base, "export", "tables", "--format", "xlsx", "-o", str(tmp_path / "x")
    )
    assert code == 0, err


def test_export_all_with_a_control_character_in_a_definition_writes_every_file(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``export all`` used to stop after 6 of 25 files at the first docx holding a
    definition with a BEL: every file is written now, and each Word and Excel file opens."""
    import zipfile

    from docx import Document
    from openpyxl import load_workbook

    base = ("--db", str(db), "--as", "chen")
    assert cli_call(capsys, *base, "codebook", "create", "category", "危害性")[0] == 0
    code, _out, err = cli_call(
        capsys, *base, "codebook", "define", "category", "危害性", "坏\x07定义"
    )
    assert code == 0, err
    with Project.open(db) as p, p.db.read() as s:
        from sqlalchemy import text

        stored = s.execute(text("SELECT definition FROM category WHERE name = '危害性'")).scalar()
    assert stored == "坏\x07定义"
    out = tmp_path / "all"
    code, _out, err = cli_call(capsys, *base, "export", "all", "-o", str(out))
    assert code == 0, err
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) >= 20, [p.name for p in files]
    texts = []
    for f in files:
        if f.suffix == ".docx":
            texts.append("\n".join(par.text for par in Document(str(f)).paragraphs))
        elif f.suffix == ".xlsx":
            load_workbook(f)
        elif f.suffix in (".qdpx", ".zip"):
            zipfile.ZipFile(f).testzip()
    assert "\x07" not in "".join(texts)


def test_status_shows_an_escape_in_the_project_name_visibly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``status`` prints the project's name: a title sequence in it is shown, never sent."""
    path = tmp_path / "n.db"
    with Project.create(path, name="[/]项目\x1b]0;PWNED\x07") as p:
        p.coding.add_coder("chen", role="lead")
    code, out, err = cli_call(capsys, "--db", str(path), "status")
    assert code == 0, err
    assert not RAW_CONTROL.search(out), repr(out)
    assert "[/]项目\\u001b]0;PWNED\\u0007" in out
    code, out, err = cli_call(capsys, "--db", str(path), "status", "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "[/]项目\x1b]0;PWNED\x07"
