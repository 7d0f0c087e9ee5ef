"""Hostile and careless input through the real CLI: one line, exit 2, the project unchanged.

Each case is one of the inputs that used to end in "internal error" (exit 3),
in silently wrong data, or in a leaked password. Every test asserts the exit
code, exactly one line on stderr, no traceback, and the same database dump
before and after (``sqlite3.Connection.iterdump`` of every table).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from groundcode.project import Project
from tests.cli.conftest import cli_call


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A small project with a lead (chen) and a coder (lin), two comments imported."""
    path = tmp_path / "p.db"
    with Project.create(path) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("lin")
        csv = tmp_path / "seed.csv"
        csv.write_text("title,text\n一,健康码数据共享。\n二,行程码互认。\n", encoding="utf-8")
        lead.corpus.import_files([csv], type=4)
    return path


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def refused(capsys: pytest.CaptureFixture[str], db: Path, *args: str, code: int = 2) -> str:
    """Run ``args`` on ``db``; assert one clean line, the exit code and an unchanged project."""
    before = dump(db)
    rc, _out, err = cli_call(capsys, "--db", str(db), *args)
    assert rc == code, err
    assert err.count("\n") == 1 and err.startswith("groundcode"), err
    assert "Traceback" not in err and "internal error" not in err
    assert dump(db) == before
    return err


def test_views_past_the_integer_range(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "v.csv"
    f.write_text("title,text,views\n甲,新评论。,9" + "9" * 30 + "\n", encoding="utf-8")
    err = refused(capsys, db, "--as", "chen", "import", str(f), "--type", "4")
    assert "v.csv" in err


def test_unterminated_quote_in_a_corpus_csv(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "q.csv"
    f.write_text('title,text\n甲,"没有闭合\n乙,第二行\n丙,第三行\n', encoding="utf-8")
    err = refused(capsys, db, "--as", "chen", "import", str(f), "--type", "4")
    assert "q.csv" in err and ":2" in err


def test_unterminated_quote_in_a_codings_csv(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "c.csv"
    f.write_text(
        'document,passage,code,coder\n4-1,1,"数据共享,lin\n4-2,1,互认,lin\n', encoding="utf-8"
    )
    err = refused(capsys, db, "--as", "chen", "codings", "import", str(f))
    assert "c.csv" in err


def test_split_with_a_negative_seed(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, db, "--as", "chen", "split", "--seed", "-1")


def test_search_with_a_huge_limit(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(capsys, db, "search", "健康", "--limit", "99999999999999999999")


def test_a_gbk_user_dictionary_is_read(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "dict.txt"
    f.write_bytes("健康码 100 n\n行程码 50 n\n".encode("gbk"))
    rc, out, err = cli_call(capsys, "--db", str(db), "--as", "chen", "dictionary", str(f))
    assert rc == 0, err
    with Project.open(db) as p, p.db.read() as s:
        from groundcode.store.settings import get_setting

        assert "健康码 100 n" in get_setting(s, "user_dict")


def test_a_bad_dictionary_line_is_refused_not_stored(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "dict.txt"
    f.write_text("健康码 100 n\n行程码 很多 名词 多余\n", encoding="utf-8")
    err = refused(capsys, db, "--as", "chen", "dictionary", str(f))
    assert "dict.txt" in err and ":2" in err


def test_a_huge_agreement_cell(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "a.csv"
    f.write_text("unit,coder,code\nu1,a,x\nu1,b," + "y" * 2_000_000 + "\n", encoding="utf-8")
    err = refused(capsys, db, "agree", "--csv", str(f))
    assert "a.csv" in err


def test_a_200_mb_agreement_cell_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    """A generated 200 MB cell: refused in one line naming the row, and the child never
    holds the file in memory (its peak RSS stays below the file's size), which is what
    made the refusal take seconds and 1.7 GB before."""
    import os
    import subprocess
    import sys

    if not Path("/proc/self/status").exists():
        pytest.skip("the peak memory is read from Linux /proc/self/status")
    f = tmp_path / "huge.csv"
    with f.open("w", encoding="utf-8") as fh:
        fh.write("unit,coder,code\nu1,a,x\nu1,b,")
        chunk = "y" * 1_000_000
        for _ in range(200):
            fh.write(chunk)
        fh.write("\n")
    size_kb = f.stat().st_size // 1024
    # VmHWM is the peak RSS of this program's own memory (ru_maxrss would carry the
    # parent's peak across exec).
    probe = (
        "import re, sys\n"
        "from groundcode.cli import main\n"
        "rc = main(['agree', '--csv', sys.argv[1]])\n"
        "status = open('/proc/self/status').read()\n"
        "print(re.search(r'VmHWM:\\s*(\\d+)', status).group(1))\n"
        "sys.exit(rc)\n"
    )
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(f)],
            env={**os.environ, "PYTHONPATH": str(root), "GROUNDCODE_LANG": "en"},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        f.unlink()
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "huge.csv:3" in done.stderr and "10000" in done.stderr
    assert int(done.stdout.split()[-1]) < size_kb


def test_a_newer_schema_is_refused_without_a_backup(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    refused(capsys, db, "corpus")
    assert not list(db.parent.glob("*.bak*"))


def test_control_characters_in_a_concept_name_are_refused(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused(capsys, db, "--as", "lin", "code", "4-1", "坏\x1b]0;PWNED\x07", "--passage", "1")


def test_an_escape_sequence_in_a_coder_name_is_refused(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """So ``coder list`` never has a name that retitles or clears the terminal."""
    err = refused(capsys, db, "--as", "chen", "coder", "add", "lin\x1b]0;PWNED\x07\x1b[2J")
    assert "\x1b" not in err


@pytest.mark.parametrize(
    "url,secrets",
    [
        ("postgresql+psycopg://chen:Secr@tPass@127.0.0.1:1/study", ("Secr", "tPass")),
        ("postgresql+psycopg://chen@127.0.0.1:1/study?password=Xyzzy42", ("Xyzzy42",)),
        ("postgresql+psycopg://chen:p%40ss:w0rd@127.0.0.1:1/study", ("p%40ss", "w0rd", "p@ss")),
    ],
)
def test_passwords_never_printed(
    url: str, secrets: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = cli_call(capsys, "--db", url, "corpus")
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    for secret in secrets:
        assert secret not in err and secret not in out


def test_redact_url_forms() -> None:
    from groundcode.store.engine import redact_url, to_url

    assert redact_url("postgresql+psycopg://chen:Secr@tPass@localhost/study") == (
        "postgresql+psycopg://chen:***@localhost/study"
    )
    assert to_url("postgresql+psycopg://chen:Secr@tPass@localhost/study").password == "Secr@tPass"
    assert "X1" not in redact_url("postgresql://h/db?sslmode=require&password=X1")
    assert redact_url("postgresql://chen@localhost/db") == "postgresql://chen@localhost/db"


def test_init_refuses_a_foreign_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (9.5)")
    conn.close()
    err = refused(capsys, other, "init")
    assert "other.db" in err
    assert [r for r in dump(other) if "CREATE TABLE" in r] == [
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);"
    ]


@pytest.mark.parametrize("shape", ["flow", "block"])
def test_a_codebook_yaml_nested_ten_thousand_deep(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    f = tmp_path / "deep.yaml"
    if shape == "flow":
        f.write_text("relation_classes:" + " {a:" * 10_000 + " 1" + "}" * 10_000 + "\n")
    else:
        f.write_text("relation_classes:\n" + "".join(" " * i + "-\n" for i in range(10_000)))
    err = refused(capsys, db, "--as", "chen", "codebook", "import", str(f))
    assert "deep.yaml" in err and "64" in err


def test_memo_list_json_with_a_project_and_a_document_memo(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert cli_call(capsys, "--db", str(db), "--as", "chen", "memo", "add", "项目备忘")[0] == 0
    rc, _out, err = cli_call(
        capsys,
        "--db",
        str(db),
        "--as",
        "chen",
        "memo",
        "add",
        "--on",
        "document",
        "--target",
        "4-1",
        "文档备忘",
    )
    assert rc == 0, err
    rc, out, err = cli_call(capsys, "--db", str(db), "--as", "chen", "memo", "list", "--json")
    assert rc == 0 and err == "", err
    rows = json.loads(out)
    assert {(r["kind"], r["target"], r["text"]) for r in rows} == {
        ("project", None, "项目备忘"),
        ("document", "4-1", "文档备忘"),
    }


def _dangling_edge(db: Path) -> None:
    """A model edge whose target category was deleted: the codebook files refuse it,
    so ``export all`` fails after the tables are already written."""
    with Project.open(db, user="chen") as p:
        p.codebook.create_category("甲")
        p.codebook.create_category("乙")
        p.codebook.add_edge("甲", "乙", "导致")
        p.codebook.delete("category", "乙")


def test_export_all_failing_part_way_leaves_no_folder(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _dangling_edge(db)
    out = tmp_path / "exports"
    err = refused(capsys, db, "--as", "chen", "export", "all", "-o", str(out))
    assert "codebook.yaml" in err and ".partial" not in err
    assert list(out.iterdir()) == []


def test_export_all_into_a_file_is_refused(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exports"
    out.write_text("not a folder", encoding="utf-8")
    err = refused(capsys, db, "--as", "chen", "export", "all", "-o", str(out))
    assert "exports" in err
    assert out.read_text(encoding="utf-8") == "not a folder"


def test_export_all_killed_part_way_leaves_no_dated_folder(db: Path, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    with Project.open(db, user="chen") as p:
        p.codebook.create_category("数据治理")
        p.codebook.create_concept("数据共享", category="数据治理")
        p.as_user("lin").coding.apply("4-1", "数据共享", passage=1)
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "exports"
    proc = subprocess.Popen(
        [sys.executable, "-m", "groundcode.cli", "--db", str(db), "--as", "chen"]
        + ["export", "all", "-o", str(out)],
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Wait until the tables are in the temporary folder, then kill mid-way.
        deadline = time.monotonic() + 300
        while not list(out.glob(".*.partial/tables/table1.csv")):
            assert proc.poll() is None, "export all finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []
    # The next export is complete and unaffected by the killed one.
    rc = subprocess.run(
        [sys.executable, "-m", "groundcode.cli", "--db", str(db), "--as", "chen"]
        + ["export", "all", "-o", str(out)],
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
    )
    assert rc.returncode == 0, rc.stderr
    # ... and it removed the killed run's hidden folder.
    dated = [p.name for p in out.iterdir()]
    assert len(dated) == 1 and not dated[0].startswith(".")
    assert (out / dated[0] / "project.qdpx").exists()


FULL_DISK_CHILD = (
    "import resource, sys\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (36_000, 36_000))\n"
    "from groundcode.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _refused_on_a_full_disk(db: Path, out: Path, *args: str) -> str:
    """Run the CLI as chen in a child whose writes fail past 36 KB (RLIMIT_FSIZE: EFBIG,
    as ENOSPC would) and check the refusal is one English line naming ``out``, exit 2;
    returns that line for the caller's own checks."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, "--db", str(db), "--as", "chen", *args],
        env={**os.environ, "PYTHONPATH": str(root), "GROUNDCODE_LANG": "en"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "cannot be written" in done.stderr and str(out) in done.stderr
    return done.stderr


def test_export_all_on_a_full_disk_is_one_line_and_leaves_no_folder(
    db: Path, tmp_path: Path
) -> None:
    """A disk that fills up mid-export, simulated with a file-size limit on the child
    (RLIMIT_FSIZE: each write past it fails with EFBIG, as ENOSPC would): one line naming
    the file in the dated folder, exit 2, no folder left, the project unchanged. It was an
    internal error, and the Word and Excel writers' half-closed zips printed tracebacks."""

    with Project.open(db, user="chen") as p:
        p.codebook.create_category("数据治理")
        p.codebook.create_concept("数据共享", category="数据治理")
        p.as_user("lin").coding.apply("4-1", "数据共享", passage=1)
    before = dump(db)
    out = tmp_path / "exports"
    line = _refused_on_a_full_disk(db, out, "export", "all", "-o", str(out))
    assert ".partial" not in line
    assert list(out.iterdir()) == []
    assert dump(db) == before


@pytest.mark.parametrize(
    "args",
    [
        ("backup", "-o", "{out}/b.db"),
        ("export", "qdpx", "-o", "{out}/p.qdpx"),
        ("export", "segments", "-o", "{out}/s.xlsx"),
        ("export", "tables", "--format", "docx", "-o", "{out}/t"),
    ],
    ids=["backup", "qdpx", "segments", "tables-docx"],
)
def test_one_export_on_a_full_disk_is_one_line_and_leaves_nothing(
    db: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    """The same full disk (a file-size limit on the child) for single exports: the backup's
    SQLite copy, the qdpx zip, the streamed Excel file and a Word report each fail as one
    line naming the file, and no file or temporary file (nor a journal) is left."""
    import random

    rng = random.Random(18)
    rows = "".join(
        f"{i},{''.join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(300))}\n"
        for i in range(120)
    )
    f = tmp_path / "big.csv"
    f.write_text("title,text\n" + rows, encoding="utf-8")
    with Project.open(db, user="chen") as p:
        p.corpus.import_files([f], type=4)
        p.codebook.create_category("数据治理")
        p.codebook.create_concept("数据共享", category="数据治理")
        lin = p.as_user("lin")
        for i in range(3, 80):
            lin.coding.apply(f"4-{i}", "数据共享", passage=1)
    before = dump(db)
    out = tmp_path / "out"
    out.mkdir()
    _refused_on_a_full_disk(db, out, *(a.format(out=out) for a in args))
    assert [p.name for p in out.rglob("*") if p.is_file()] == []
    assert dump(db) == before


def test_a_multi_file_import_names_the_files_it_kept(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file is one transaction: the refusal of the third says the first two stayed."""
    a, b, bad = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "bad.csv"
    a.write_text("title,text\n甲,第一份。\n", encoding="utf-8")
    b.write_text("title,text\n乙,第二份。\n", encoding="utf-8")
    bad.write_text("title,text,views\n丙,坏,9" + "9" * 30 + "\n", encoding="utf-8")
    files = [str(a), str(b), str(bad)]
    for lang, kept_word in (("en", "kept"), ("zh", "保留")):
        monkeypatch.setenv("GROUNDCODE_LANG", lang)
        fresh = tmp_path / f"{lang}.db"
        fresh.write_bytes(db.read_bytes())
        rc, _out, err = cli_call(
            capsys, "--db", str(fresh), "--as", "chen", "import", *files, "--type", "4"
        )
        assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        assert err.index("bad.csv") < err.index(kept_word) < err.index("a.csv") < err.index("b.csv")
        with Project.open(fresh, user="chen") as p:
            assert len(p.corpus.documents()) == 4  # the two seeds, a.csv and b.csv
    # Run again: the kept files are skipped, so only the refusal itself is left to say.
    err = refused(capsys, fresh, "--as", "chen", "import", *files, "--type", "4")
    assert "bad.csv" in err and "a.csv" not in err


def test_a_missing_file_among_several_imports_none(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = tmp_path / "a.csv"
    a.write_text("title,text\n甲,第一份。\n", encoding="utf-8")
    err = refused(
        capsys, db, "--as", "chen", "import", str(a), str(tmp_path / "nope.csv"), "--type", "4"
    )
    assert "nope.csv" in err


@pytest.mark.parametrize(
    "args",
    [
        ("screen", "--min-chars", "200"),
        ("exclude", "4-1", "--reason", "off topic"),
        ("personal", "--off", "4-1"),
        ("redact",),
        ("dictionary", "{dict}"),
        ("import", "{csv}", "--type", "4"),
    ],
    ids=lambda a: a[0],
)
def test_an_anonymous_change_is_refused_once_a_lead_exists(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    """No ``--as`` with a lead present: one line asking for it, and nothing changes (the
    audit log included, so no row with an empty actor)."""
    with Project.open(db, user="chen") as p:
        p.corpus.mark_personal(["4-1"])
    d = tmp_path / "dict.txt"
    d.write_text("健康码 100 n\n", encoding="utf-8")
    c = tmp_path / "more.csv"
    c.write_text("title,text\n新,另一条评论。\n", encoding="utf-8")
    filled = [a.format(dict=d, csv=c) for a in args]
    err = refused(capsys, db, *filled)
    assert "--as" in err
