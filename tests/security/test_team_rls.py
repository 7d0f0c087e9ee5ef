"""Team mode: the database itself keeps blind coding, tried with raw SQL through each login.

Every test here signs in with a real password (scram-sha-256) as a lead or a
coder and talks to PostgreSQL with psycopg directly, not through groundcode:
what a coder with psql could do is what these tests try.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from groundcode.project import Project
from groundcode.store.identity import (
    ActingAsOther,
    BadLoginName,
    LoginRefused,
    NotOwner,
    SignInFailed,
    group_roles,
    init_team,
)
from tests.cli.conftest import RunCli
from tests.team import Team, people

pytestmark = pytest.mark.postgres


def _coded(t: Team, tmp_path: Path) -> tuple[str, str, str]:
    """chen imports a document; lin and wang each code it, write a memo and mark it done."""
    who = people(t)
    chen = t.open(who.lead)
    doc = tmp_path / "doc.txt"
    doc.write_text("健康码互认的讨论。\n红码申诉很久才恢复。\n行程卡取消。", encoding="utf-8")
    chen.corpus.import_files([doc], type=1)
    chen.corpus.split()
    for name, concept in ((who.lin, "互认"), (who.wang, "申诉")):
        p = t.open(name)
        assert p.user == name  # no --as: the login says who is acting
        p.coding.apply("1-1", concept, passage=1)
        p.coding.add_memo("document", "1-1", f"{name} 的备忘")
        with t.raw(name) as conn:
            conn.execute(
                "INSERT INTO done_mark (coder_id, document_id, marked_at) "
                "SELECT c.id, d.id, now() FROM coder c, document d "
                "WHERE c.login = session_user AND d.number = '1-1'"
            )
    return who.lead, who.lin, who.wang


def _names(conn: psycopg.Connection, sql: str) -> set[str]:
    return {r[0] for r in conn.execute(sql).fetchall()}


CODINGS = "SELECT co.name FROM coding c JOIN coder co ON co.id = c.coder_id"
MEMOS = "SELECT author FROM memo"
DONE = "SELECT co.name FROM done_mark d JOIN coder co ON co.id = d.coder_id"
AUDIT = "SELECT actor FROM audit_log WHERE actor IS NOT NULL"


def test_a_coder_reads_only_their_own_rows_in_blind_mode(team: Team, tmp_path: Path) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    with team.raw(wang) as conn:
        assert _names(conn, CODINGS) == {wang}
        assert _names(conn, MEMOS) == {wang}
        assert _names(conn, DONE) == {wang}
        assert _names(conn, AUDIT) == {wang}
        # Counting does not leak either: the rows are not there for this login.
        assert conn.execute("SELECT count(*) FROM coding").fetchone() == (1,)
    with team.raw(lead) as conn:
        assert _names(conn, CODINGS) == {lin, wang}
        assert _names(conn, MEMOS) == {lin, wang}
        assert _names(conn, DONE) == {lin, wang}


def test_nobody_writes_in_another_persons_name(team: Team, tmp_path: Path) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    with team.raw(wang) as conn:
        lin_id = conn.execute("SELECT id FROM coder WHERE name = %s", (lin,)).fetchone()[0]
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                'INSERT INTO coding (coder_id, concept_id, document_id, start, "end", snippet, '
                "assisted, created_at) SELECT %s, id, 1, 0, 3, 'x', false, now() FROM concept "
                "LIMIT 1",
                (lin_id,),
            )
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO memo (target_kind, author, text, created_at, updated_at) "
                "VALUES ('project', %s, 'forged', now(), now())",
                (lin,),
            )
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO done_mark (coder_id, document_id, marked_at) VALUES (%s, 1, now())",
                (lin_id,),
            )
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO audit_log (at, actor, action, entity, undone) "
                "VALUES (now(), %s, 'coding.apply', 'coding', false)",
                (lin,),
            )
        # Moving one's own coding into someone else's name: the column is not theirs to change.
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE coding SET coder_id = %s", (lin_id,))
        # The audit row's login is the session user, whatever the client sends.
        conn.execute(
            "INSERT INTO audit_log (at, actor, action, entity, undone, login) "
            "VALUES (now(), %s, 'note', 'project', false, %s)",
            (wang, lead),
        )
        assert conn.execute("SELECT login FROM audit_log WHERE action = 'note'").fetchone() == (
            wang,
        )
        # Another coder's rows cannot be changed or deleted (they are not even visible).
        assert conn.execute("DELETE FROM coding WHERE coder_id = %s", (lin_id,)).rowcount == 0
        assert conn.execute("DELETE FROM memo WHERE author = %s", (lin,)).rowcount == 0
    with team.raw(lead) as conn:
        assert conn.execute(
            "SELECT count(*) FROM coding c JOIN coder co ON co.id = c.coder_id WHERE co.name = %s",
            (lin,),
        ).fetchone() == (1,)
        # Every audit row carries the login of the session that wrote it.
        rows = conn.execute(
            "SELECT DISTINCT actor, login FROM audit_log WHERE action = 'coding.apply'"
        ).fetchall()
        assert set(rows) == {(lin, lin), (wang, wang)}


def test_only_leads_change_blind_mode_split_people_and_codebook(team: Team, tmp_path: Path) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    with team.raw(wang) as conn:
        assert (
            conn.execute("UPDATE setting SET value = 'off' WHERE key = 'blind_mode'").rowcount == 0
        )
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO setting (key, value) VALUES ('blind_mode', 'off') "
                "ON CONFLICT (key) DO UPDATE SET value = 'off'"
            )
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO setting (key, value) VALUES ('holdout_start', '2026-01-01T00:00:00Z')"
            )
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE document SET split = 'holdout'")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE coder SET role = 'lead' WHERE login = session_user")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("INSERT INTO category (name, position, created_at) VALUES ('x', 0, now())")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM model_edge")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO assignment (coder_id, document_id, assigned_at) "
                "SELECT id, 1, now() FROM coder WHERE login = session_user"
            )
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE concept SET name = 'renamed'")
        # A temporary table cannot stand in for the coder table the policies read.
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("CREATE TEMP TABLE coder (id int, name text, login text, role text)")
        # Roles are the database's: a coder cannot add a login through groundcode's function.
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT gc_add_login('mallory', NULL, true)")
    with team.raw(lead) as conn:
        assert conn.execute("SELECT value FROM setting WHERE key = 'blind_mode'").fetchone() in (
            None,
            ("auto",),
            ("on",),
        )


def test_after_the_lead_ends_blind_mode_coders_read_each_other(team: Team, tmp_path: Path) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    team.open(lead).coding.set_blind_mode(False)
    with team.raw(wang) as conn:
        assert _names(conn, CODINGS) == {lin, wang}
        assert _names(conn, MEMOS) == {lin, wang}
        # Reading is open now; writing in lin's name still is not.
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO memo (target_kind, author, text, created_at, updated_at) "
                "VALUES ('project', %s, 'forged', now(), now())",
                (lin,),
            )
    assert set(team.open(wang).coding.codings()["coder"]) == {lin, wang}


def test_acting_as_someone_else_is_refused(
    team: Team, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    with pytest.raises(ActingAsOther):
        team.open(wang, user=lin)
    monkeypatch.setenv("PGPASSWORD", team.passwords[wang])
    url = team.url(wang)._replace(password=None).render_as_string(hide_password=False)
    res = run_cli("--db", url, "--as", lin, "codings", "export", str(tmp_path / "x.csv"))
    assert res.code == 2
    assert len(res.err.strip().splitlines()) == 1
    assert wang in res.err and lin in res.err
    assert not (tmp_path / "x.csv").exists()
    res = run_cli("--db", url, "--as", wang, "codings", "export", str(tmp_path / "w.csv"))
    assert res.code == 0, res.err
    assert lin not in (tmp_path / "w.csv").read_text(encoding="utf-8-sig")
    # A lead may act as the consensus set, and as nobody else.
    monkeypatch.setenv("PGPASSWORD", team.passwords[lead])
    lead_url = team.url(lead)._replace(password=None).render_as_string(hide_password=False)
    assert team.open(lead, user="consensus").user == "consensus"
    res = run_cli("--db", lead_url, "--as", wang, "status")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1
    res = run_cli("--db", lead_url, "status")
    assert res.code == 0 and f"team mode: on; signed in as {lead} ({lead})" in res.out


def test_every_path_a_coder_uses_works_through_the_policies(team: Team, tmp_path: Path) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    chen = team.open(lead)
    chen.codebook.import_yaml(Path("codebooks/health-code.yaml"))
    p = team.open(lin)
    c = p.coding.apply("1-1", "新概念", passage=2)
    p.coding.change_span(c.id, c.start, c.end - 1)
    assert p.coding.undo() is not None
    assert p.coding.redo() is not None
    p.coding.remove(c.id)
    p.coding.undo()
    m = p.coding.add_memo("coding", c.id, "为什么")
    p.coding.edit_memo(m.id, "因为")
    p.coding.delete_memo(m.id)
    assert set(p.coding.codings()["coder"]) == {lin}
    assert set(p.coding.memos()["author"]) == {lin}
    assert {v.coder for v in p.coding.document_codings("1-1")} == {lin}
    assert not p.coding.progress().empty
    assert p.coding.next_uncoded() is not None
    chen.progress.assign([lin, wang], split="all")
    p.progress.done(["1-1"], undo=True)
    assert list(p.progress.queue()["number"]) == ["1-1"]
    assert p.progress.next_in_queue() == "1-1"
    p.progress.done(["1-1"])
    assert p.progress.queue().empty
    assert set(p.progress.done_marks()["coder"]) == {lin}
    assert not p.progress.progress().empty
    assert p.corpus.search("健康码").total == 1
    assert len(p.corpus.documents()) == 1
    assert p.codebook.tree() is not None
    assert not p.codebook.concepts_frame().empty
    p.analysis.words(top=5)
    # A coder creates concepts by coding, and cannot change the codebook.
    assert "新概念" in set(p.coding.codings()["concept"])


def test_team_init_twice_is_harmless_and_needs_the_owner(team: Team, tmp_path: Path) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    with Project.open(team.admin) as owner:
        again = init_team(owner.db)
        assert again.created_groups == []
    with team.raw(wang) as conn:
        assert _names(conn, CODINGS) == {wang}
    with pytest.raises(NotOwner):
        init_team(team.open(lead).db)


@pytest.mark.parametrize(
    "name",
    [
        'lin"; DROP TABLE coding; --',
        "x'); DROP ROLE postgres; --",
        "pg_signal_backend",
        "public",
        "a b",
        "l" * 64,
    ],
)
def test_names_that_are_not_logins_are_refused(team: Team, name: str) -> None:
    owner = team.owner()
    with pytest.raises(BadLoginName):
        owner.coding.add_coder("someone", role="lead", login=name, password="pw")
    with team.raw_admin() as conn:
        assert conn.execute("SELECT count(*) FROM coder WHERE role <> 'consensus'").fetchone() == (
            0,
        )
        assert conn.execute("SELECT to_regclass('coding') IS NOT NULL").fetchone() == (True,)


def test_a_chinese_name_is_a_login_too(team: Team) -> None:
    owner = team.owner()
    name = "林" + team.database[-4:]
    team.add(owner, name, role="lead")
    with team.raw(name) as conn:
        assert conn.execute("SELECT session_user").fetchone() == (name,)
    assert team.open(name).user == name


def _kill_own_backend(t: Team, conn: Any) -> None:
    pid = conn.connection.driver_connection.info.backend_pid
    with t.raw_admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_lost_mid_write_is_retried_and_nothing_is_doubled(
    team: Team, tmp_path: Path
) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    p = team.open(lin)
    fired: list[int] = []

    def lose_it(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            fired.append(1)
            _kill_own_backend(team, conn)

    event.listen(p.db.engine, "before_cursor_execute", lose_it)
    try:
        c = p.coding.apply("1-1", "断线", passage=2)
    finally:
        event.remove(p.db.engine, "before_cursor_execute", lose_it)
    assert fired
    with team.raw(lin) as conn:
        assert conn.execute("SELECT count(*) FROM coding WHERE id = %s", (c.id,)).fetchone() == (1,)
        assert conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'coding.apply' AND entity_id = %s",
            (c.id,),
        ).fetchone() == (1,)


def test_a_connection_lost_at_commit_is_reported_and_nothing_is_half_written(
    team: Team, tmp_path: Path
) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    p = team.open(lin)

    def lose_it(conn: Any) -> None:
        _kill_own_backend(team, conn)

    with team.raw(lin) as conn:
        before = conn.execute("SELECT count(*) FROM coding").fetchone()
        audits = conn.execute("SELECT count(*) FROM audit_log").fetchone()
    event.listen(p.db.engine, "commit", lose_it)
    try:
        with pytest.raises(OperationalError):
            p.coding.apply("1-1", "断线", passage=2)
    finally:
        event.remove(p.db.engine, "commit", lose_it)
    with team.raw(lin) as conn:
        assert conn.execute("SELECT count(*) FROM coding").fetchone() == before
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == audits
        assert conn.execute("SELECT count(*) FROM concept WHERE name = '断线'").fetchone() == (0,)
    # The project is usable straight away: the dead connection left the pool.
    assert p.coding.apply("1-1", "断线", passage=2).concept == "断线"


def test_a_removed_coder_can_no_longer_connect(team: Team, tmp_path: Path) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    assert team.open(lead).coding.remove_coder(wang) is False  # wang's work stays
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        team.raw(wang).close()
    with pytest.raises(SignInFailed):
        Project.sign_in(team.admin, wang, team.passwords[wang])
    with team.raw(lead) as conn:
        assert _names(conn, CODINGS) == {lin, wang}


def test_every_path_a_lead_uses_works_through_the_policies(team: Team, tmp_path: Path) -> None:
    lead, lin, wang = _coded(team, tmp_path)
    chen = team.open(lead)
    for name in (lin, wang):
        team.open(name).coding.apply("1-1", "互认", passage=1)
    chen.progress.assign([lin, wang], split="all")
    assert chen.analysis.agreement(coders=[lin, wang], bootstrap=0) is not None
    chen.analysis.reconcile(coders=[lin, wang])
    with team.raw(lead) as conn:
        assert "consensus" in _names(conn, CODINGS)
    chen.codebook.import_yaml(Path("codebooks/health-code.yaml"))
    chen.codebook.merge("concept", ["申诉"], "互认")  # moves wang's coding: a lead may
    assert set(chen.coding.codings()["concept"]) <= {"互认"}
    chen.progress.begin_holdout()
    chen.coding.set_blind_mode(False)
    with team.raw(lin) as conn:
        assert _names(conn, CODINGS) >= {lin, wang}


def test_the_cli_refuses_a_name_that_is_no_login_in_one_line(
    team: Team, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUNDCODE_NEW_PASSWORD", "not-echoed-pw")
    admin = team.admin.render_as_string(hide_password=False)
    res = run_cli("--db", admin, "coder", "add", 'x"; DROP TABLE coding; --', "--role", "lead")
    assert res.code == 2
    assert len(res.err.strip().splitlines()) == 1
    assert "not-echoed-pw" not in res.err + res.out
    res = run_cli("--db", admin, "coder", "list", "--json")
    assert res.code == 0 and res.out.strip() == "[]"
    tag = team.database[-4:]
    res = run_cli("--db", admin, "coder", "add", f"chen_{tag}", "--role", "lead")
    team.passwords[f"chen_{tag}"] = "not-echoed-pw"
    assert res.code == 0, res.err
    assert "not-echoed-pw" not in res.err + res.out
    with team.raw(f"chen_{tag}") as conn:
        assert conn.execute("SELECT session_user").fetchone() == (f"chen_{tag}",)
        # Nothing groundcode keeps holds the password, nor does the audit log.
        assert conn.execute(
            "SELECT count(*) FROM audit_log WHERE after LIKE '%not-echoed%'"
        ).fetchone() == (0,)


def test_a_superuser_or_a_group_cannot_be_made_a_person(team: Team) -> None:
    owner = team.owner()
    lead_group, _coder_group = group_roles(team.database)
    for login in (str(team.admin.username), lead_group):
        with pytest.raises(LoginRefused):
            owner.coding.add_coder("someone", role="coder", login=login, password="pw")
    with team.raw_admin() as conn:
        assert conn.execute("SELECT count(*) FROM coder WHERE name = 'someone'").fetchone() == (0,)
