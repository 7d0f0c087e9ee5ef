"""Redaction leaves nothing behind: every store and every export is searched for the values.

A project is used the way a study uses it before anyone notices the personal
data: imported with titles, authors, urls and an extra column holding ID
numbers, phone numbers and e-mail addresses; indexed; coded (one coding later
removed, one concept named in vivo after a phone number); memos written and
edited; word counts and a suggestion model built. Then ``redact``, and a search
of the SQLite file's dump, its raw bytes and write-ahead log, the project's
cache folder, the CLI's ``words --by document --json`` and every file of
``export all`` (zip containers opened) for every value, in UTF-8, UTF-16 and
UTF-32 (numpy keeps strings as UTF-32). On PostgreSQL every table is read back.
Real files, real databases, no mocks.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from groundcode.cli import main
from groundcode.project import Project
from groundcode.store.derived import folder_for
from groundcode.store.tables import metadata
from tests.conftest import MakeProject
from tests.team import Team, people, team

__all__ = ["team"]  # the team-mode project fixture

N = 8
IDS = [f"1101011990030{7000 + i:04d}X" for i in range(N)]  # 18 characters, last one X
PHONES = [f"138{12340000 + i:08d}" for i in range(N)]
EMAILS = [f"zhang.san{i}@example.org" for i in range(N)]
VALUES = IDS + PHONES + EMAILS
TOPICS = ["核酸排队太久", "团购买菜困难", "疫苗预约顺利", "健康码变红码"]


def _encodings(value: str) -> list[bytes]:
    """The value as stored anywhere: any case (tokens are lower-cased), any Unicode form."""
    return [
        v.encode(e)
        for v in {value, value.lower(), value.upper()}
        for e in ("utf-8", "utf-16-le", "utf-32-le")
    ]


def _leaks(data: bytes, where: str) -> list[str]:
    return [f"{where}: {v}" for v in VALUES if any(b in data for b in _encodings(v))]


def _file_leaks(path: Path) -> list[str]:
    data = path.read_bytes()
    found = _leaks(data, str(path))
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                inner = zf.read(name)
                found += _leaks(inner, f"{path}!{name}")
    return found


def _corpus(tmp_path: Path) -> Path:
    rows = ["text,title,author,url,联系方式"]
    for i in range(N):
        topic = TOPICS[i % len(TOPICS)]
        rows.append(
            f"{topic}，我的身份证号{IDS[i]}，电话{PHONES[i]}，邮箱{EMAILS[i]}，{topic}。,"
            f"{topic}（来电{PHONES[i]}）,张三{PHONES[i]},"
            f"https://weibo.example/u?mail={EMAILS[i]},{IDS[i]}"
        )
    path = tmp_path / "comments.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def used(make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The study before redaction (see the module docstring)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("lin")
    lead.codebook.create_relation_class("因果关系")
    lead.codebook.create_main_category("防疫负担", relation_class="因果关系")
    lead.codebook.create_category(
        "日常困扰", number="1", main="防疫负担", definition=f"如受访者（{EMAILS[4]}）所说"
    )
    for topic in TOPICS:
        lead.codebook.create_concept(topic, category="日常困扰")
    lead.codebook.define("concept", TOPICS[0], f"例：{PHONES[5]} 的经历")
    lead.codebook.set_storyline(f"故事线：一位受访者（{IDS[6]}）的经历")
    lead.corpus.import_files([_corpus(tmp_path)], type=4)
    lead.corpus.build_search_index()
    assert lead.corpus.search(PHONES[0]).total == 1
    lin = p.as_user("lin")
    for i in range(N):
        doc = f"4-{i + 1}"
        lin.coding.apply(doc, TOPICS[i % len(TOPICS)], passage=1)
        lead.coding.apply(doc, TOPICS[i % len(TOPICS)], passage=1)
    body = lead.corpus.document("4-1").text
    at = body.index(PHONES[0])
    lin.coding.invivo("4-1", at, at + len(PHONES[0]))  # a concept named after the phone number
    id_at = body.index(IDS[0])
    gone = lin.coding.apply("4-1", "身份信息", start=id_at - 2, end=id_at + 10)  # cuts the ID
    lin.coding.remove(gone.id)
    memo = lin.coding.add_memo("document", "4-2", f"她留了电话 {PHONES[1]}")
    lin.coding.edit_memo(memo.id, f"改：身份证{IDS[1]}")
    lin.coding.add_memo("coding", lin.coding.document_codings("4-3")[0].id, f"联系{EMAILS[2]}")
    lin.coding.add_memo("project", None, f"访谈对象电话{PHONES[3]}")
    words = lin.analysis.words(by="document", top=50)
    assert _leaks(words.to_csv().encode(), "words"), "the token cache must hold values"
    lin.analysis.suggest("4-1", passage=1)
    lead.corpus.mark_personal(["4-5"])
    return lead


def _dump_leaks(p: Project) -> list[str]:
    found: list[str] = []
    with p.db.read() as s:
        for table in metadata.sorted_tables:
            for row in s.execute(table.select()).all():
                found += _leaks(repr(tuple(row)).encode(), f"table {table.name}")
                found += _leaks(
                    json.dumps([str(v) for v in row], ensure_ascii=False).encode(),
                    f"table {table.name}",
                )
    return found


def test_redaction_leaves_no_value_in_any_store_or_export(
    used: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _dump_leaks(used), "the set-up must hold the values before redaction"
    report = used.corpus.redact()
    assert report.documents == N
    assert report.replacements == {"phone": 3 * N, "id": 2 * N, "email": 2 * N}
    for place in ("document.title", "document.author", "document.url", "document.meta"):
        assert report.fields[place] == N
    assert report.fields["coding.snippet"] >= 2 * N
    assert report.fields["memo.text"] == 3 and report.fields["audit_log"] >= 3
    assert report.fields["concept.name"] == 1
    assert report.fields["category.definition"] == report.fields["concept.definition"] == 1
    assert report.fields["setting.storyline"] == 1
    assert report.derived_files >= 1
    # The masks keep lengths: every coding still points at its characters.
    doc = used.corpus.document("4-1")
    assert "138*****" in doc.text and len(doc.text) == len(doc.passages[0].text)
    for c in used.coding.document_codings("4-1"):
        assert c.snippet == doc.text[c.start : c.end][: len(c.snippet)]

    # The database, table by table (SQLite and PostgreSQL); no hash of the unmasked text
    # is left either (with the masked text known, it would give the digits away).
    assert _dump_leaks(used) == []
    with used.db.read() as s:
        hashes = dict(s.execute(text("SELECT text, content_hash FROM document")).all())
    assert all(h == hashlib.sha256(t.encode()).hexdigest() for t, h in hashes.items())
    assert used.corpus.search(PHONES[0]).total == 0
    assert used.corpus.search("核酸排队").total > 0

    # Derived stores rebuilt from the masked text: word counts through the CLI, a new model.
    db = str(used.db.url.database) if used.db.is_sqlite else used.db.url.render_as_string(False)
    capsys.readouterr()
    assert main(["--db", db, "--as", "chen", "words", "--by", "document", "--json"]) == 0
    out = capsys.readouterr().out
    assert _leaks(out.encode(), "words --by document --json") == []
    assert json.loads(out)
    used.as_user("lin").analysis.suggest("4-1", passage=1)
    folder = folder_for(used.db.url)
    leaks = [x for f in folder.glob("*") for x in _file_leaks(f)]
    assert leaks == [] and list(folder.glob("suggest-*.npz"))
    assert not list((tmp_path / "user-cache").rglob("suggest-*.model"))

    # Every export, personal documents included.
    _folder, paths = used.exports.all(tmp_path / "exports", include_personal=True)
    assert len(paths) > 20
    assert [x for path in paths for x in _file_leaks(path)] == []

    if used.db.is_sqlite:
        # The file's own bytes and its write-ahead log, after the redaction's compaction.
        assert report.compacted is True
        file = Path(str(used.db.url.database))
        used.close()
        for f in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
            if f.exists():
                assert _file_leaks(f) == []
        con = sqlite3.connect(file)
        try:
            dump = "\n".join(con.iterdump())
        finally:
            con.close()
        assert _leaks(dump.encode(), "iterdump") == []


def test_redaction_is_one_audited_transaction_without_the_values(used: Project) -> None:
    with used.db.read() as s:
        before = s.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    report = used.corpus.redact()
    with used.db.read() as s:
        rows = s.execute(
            text("SELECT entity, after FROM audit_log WHERE action = 'corpus.redact' ORDER BY id")
        ).all()
        after = s.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    assert after - before == len(rows) == report.documents + 1
    assert rows[-1][0] == "project" and json.loads(rows[-1][1])["documents"] == N
    assert all(_leaks(str(r[1]).encode(), "audit") == [] for r in rows)
    # Nothing left to mask: a second run changes nothing and writes no audit row.
    again = used.corpus.redact()
    assert again.documents == 0 and again.fields == {}


def test_dry_run_reports_and_changes_nothing(used: Project) -> None:
    dump = _dump_leaks(used)
    report = used.corpus.redact(dry_run=True)
    assert report.documents == N and report.compacted is None
    assert _dump_leaks(used) == dump


def test_a_lead_redacts_a_team_project_through_the_policies(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL team mode: the lead's login masks the coders' memos, snippets and audit
    rows too (the audit log's text is changed only through a function that accepts masks)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    who = people(team)
    chen = team.open(who.lead)
    chen.corpus.import_files([_corpus(tmp_path)], type=4)
    lin = team.open(who.lin)
    for i in range(N):
        lin.coding.apply(f"4-{i + 1}", TOPICS[i % len(TOPICS)], passage=1)
    body = chen.corpus.document("4-1").text
    at = body.index(IDS[0])
    gone = lin.coding.apply("4-1", "身份信息", start=at - 2, end=at + 10)
    lin.coding.remove(gone.id)
    memo = lin.coding.add_memo("document", "4-2", f"电话 {PHONES[1]}")
    lin.coding.edit_memo(memo.id, f"身份证{IDS[1]}")
    report = chen.corpus.redact()
    assert report.documents == N and report.fields["audit_log"] >= 2
    assert report.fields["memo.text"] == 1 and report.fields["coding.snippet"] >= N
    assert report.compacted is False  # the lead does not own the tables: no VACUUM claimed
    owner = team.owner()
    assert _dump_leaks(owner) == []
    # The function refuses anything but a mask, and anyone but a lead.
    with team.raw(who.lead) as conn, pytest.raises(psycopg.Error):
        conn.execute(
            "SELECT gc_mask_audit(id, before, '{\"x\": 1}') FROM audit_log WHERE after IS NOT NULL"
            " LIMIT 1"
        )
    with team.raw(who.lin) as conn, pytest.raises(psycopg.Error):
        conn.execute("SELECT gc_mask_audit(id, before, after) FROM audit_log LIMIT 1")


def test_a_session_reading_during_redaction_is_reported_and_a_rerun_compacts(
    make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: a reader holding a snapshot keeps the old pages alive; redaction says so
    (``compacted`` False) instead of hanging, and a run once it has gone leaves nothing."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    p = make_project()
    if not p.db.is_sqlite:
        pytest.skip("the file and its write-ahead log are SQLite's")
    p.corpus.import_files([_corpus(tmp_path)], type=4)
    file = Path(str(p.db.url.database))
    reader = sqlite3.connect(file, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM document").fetchone()
        report = p.corpus.redact()
        assert report.documents == N and report.compacted is False
    finally:
        reader.close()
    assert _dump_leaks(p) == []
    again = p.corpus.redact()
    assert again.documents == 0 and again.compacted is True
    p.close()
    for f in (file, file.with_name(file.name + "-wal")):
        if f.exists():
            assert _file_leaks(f) == []


def test_undoing_a_removal_after_redaction_brings_back_the_masked_snippet(
    make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("lin")
    lead.corpus.import_files([_corpus(tmp_path)], type=4)
    lin = p.as_user("lin")
    at = lead.corpus.document("4-1").text.index(PHONES[0])
    gone = lin.coding.apply("4-1", "联系方式", start=at, end=at + len(PHONES[0]))
    lin.coding.remove(gone.id)
    lead.corpus.redact()
    lin.coding.undo()
    (back,) = lin.coding.document_codings("4-1")
    assert (back.start, back.end) == (gone.start, gone.end)
    assert back.snippet == "138******00" and _dump_leaks(p) == []
