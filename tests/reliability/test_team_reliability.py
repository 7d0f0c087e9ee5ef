"""The concurrency and kill -9 tests again, on PostgreSQL in team mode: each writer on its own login.

Row-level security, the session-user lookups of the policies and the audit
trigger are all on the path of every write here, so these prove that they
neither lose a committed coding nor turn contention into an error.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from groundcode.project import Project
from groundcode.store.tables import AuditLog, Coding
from tests.reliability.test_concurrency import PER_PROC, PROCS
from tests.team import Team, team

__all__ = ["team"]  # the fixture

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def _worker(t: Team, login: str, n: int) -> subprocess.Popen[str]:
    # The URL names the login; its password comes from the environment, as for a person.
    url = t.url(login)._replace(password=None).render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PGPASSWORD": t.passwords[login]}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.worker", "apply", url, login, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def _project(t: Team, tmp_path: Path, coders: int) -> list[str]:
    tag = t.database[-4:]
    owner = t.owner()
    lead = t.add(owner, f"chen_{tag}", role="lead")
    chen = t.open(lead)
    names = [t.add(chen, f"coder{i}_{tag}") for i in range(coders)]
    doc = tmp_path / "doc.txt"
    doc.write_text("\n".join(f"第{i}段：健康码数据共享与互认的讨论。" for i in range(1, 121)))
    chen.corpus.import_files([doc], type=1)
    return [lead, *names]


def test_eight_logins_times_a_thousand_codings(team: Team, tmp_path: Path) -> None:
    lead, *coders = _project(team, tmp_path, PROCS)
    procs = [_worker(team, name, PER_PROC) for name in coders]
    saved: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-2000:]
        assert err.strip() == "", err[-2000:]
        lines = out.splitlines()
        assert len(lines) == PER_PROC
        saved += [int(line.split()[1]) for line in lines]
    with Project.open(team.url(lead)) as check, check.db.read() as s:
        n = s.execute(select(func.count()).select_from(Coding)).scalar()
        present = set(s.execute(select(Coding.id)).scalars())
        audited = s.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "coding.apply")
        ).scalar()
        logins = set(
            s.execute(
                text("SELECT DISTINCT login FROM audit_log WHERE action = 'coding.apply'")
            ).scalars()
        )
    assert set(saved) <= present
    assert n == len(set(saved))
    assert audited == n
    assert logins == set(coders)  # every row in the name of the login that wrote it


@pytest.mark.parametrize("seed", [1, 2])
def test_every_coding_a_login_reported_saved_survives_kill_9(
    team: Team, tmp_path: Path, seed: int
) -> None:
    lead, lin = _project(team, tmp_path, 1)
    rng = random.Random(seed)
    proc = _worker(team, lin, 100_000)
    assert proc.stdout is not None
    deadline = time.monotonic() + rng.uniform(1.5, 4.0)
    reported: list[int] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reported.append(int(line.split()[1]))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert reported, "the child saved nothing before the kill"
    with Project.open(team.url(lead)) as p, p.db.read() as s:
        present = set(s.execute(select(Coding.id)).scalars())
    missing = set(reported) - present
    assert not missing, f"{len(missing)} codings reported saved were lost"
