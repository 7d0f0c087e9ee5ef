"""The people room: who is on the project, their roles, their logins, blind mode.

The one owner of the ``coder`` table and of the ``blind_mode`` setting. Who may
change what and who sees whose work is decided in ``store.access``; this room
applies those rules to the people themselves and answers the questions a
front end asks before it shows anything (the acting role, the coders the
acting user may read, the project's status line).

Rules enforced here (not in any UI):

* once a lead exists, only a lead adds people; only a lead gives logins or
  takes people out, and turning blind mode off needs a lead once two people
  code (turning it on is open to every named person);
* the consensus coder is reserved: nobody adds, renames or removes it;
* someone who has done work keeps their row when taken out, so their codings,
  memos, marks and assignments stay attributed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, func, select

from groundcode.domain.errors import BadOption, Conflict, Refused
from groundcode.domain.values import clean_name
from groundcode.domain.vocab import PERSON_ROLES
from groundcode.people.records import CoderRole, CoderView, ProjectStatus
from groundcode.store import identity
from groundcode.store.access import (
    authorize,
    blind_active,
    find_coder,
    human_coder_count,
    readable_coder_ids,
)
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.seed import CONSENSUS
from groundcode.store.settings import get_setting, set_setting
from groundcode.store.tables import Assignment, Coder, Coding, DoneMark, Memo

ROLES: tuple[str, ...] = PERSON_ROLES


def _view(c: Coder) -> CoderView:
    assert c.id is not None
    return CoderView(c.id, c.name, c.role)


class PeopleService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- who is on the project -------------------------------------------
    def coders(self, *, include_consensus: bool = False) -> list[CoderView]:
        with self.ctx.db.read() as s:
            q = select(Coder).order_by(col(Coder.id))
            if not include_consensus:
                q = q.where(col(Coder.role) != "consensus")
            return [_view(c) for c in s.execute(q).scalars()]

    def add_coder(
        self,
        name: str,
        *,
        role: str = "coder",
        login: str | None = None,
        password: str | None = None,
    ) -> CoderView:
        """Add a coder or lead; once a lead exists, only a lead adds people.

        On PostgreSQL in team mode the person also gets a database login
        (``login``, default: the name) in the lead or coder group, created with
        ``password`` when new; the password is hashed on the client and never kept.
        """
        name = clean_name(name, "coder")
        if role not in ROLES:
            raise BadOption(option="role", value=role, allowed=", ".join(ROLES))
        if name == CONSENSUS:
            raise Refused("reserved_coder", name=CONSENSUS)

        def _do(s: Session) -> CoderView:
            authorize(s, self.ctx.actor, "coder.add")
            if s.execute(select(Coder.id).where(Coder.name == name)).first():
                raise Conflict(what="exists.coder", name=name)
            c = Coder(name=name, role=role)
            after: dict[str, Any] = {"name": name, "role": role}
            if identity.team_mode(s):
                c.login = identity.check_login_name(login or name)
                after["login"] = c.login
                after["login_created"] = identity.add_login(
                    s, c.login, password, lead=role == "lead"
                )
            s.add(c)
            s.flush()
            record(
                s,
                actor=self.ctx.actor,
                action="coder.add",
                entity="coder",
                entity_id=c.id,
                after=after,
            )
            return _view(c)

        return self.ctx.db.run(_do)

    def give_login(
        self, name: str, *, login: str | None = None, password: str | None = None
    ) -> str:
        """Team mode: map an existing coder to a database login (created if new)."""

        def _do(s: Session) -> str:
            authorize(s, self.ctx.actor, "coder.login")
            c = find_coder(s, name)
            if c.role == CONSENSUS:
                raise Refused("reserved_coder", name=CONSENSUS)
            if not identity.team_mode(s):
                raise identity.TeamNeedsPostgres(self.ctx.db.display_url)
            before = c.login
            c.login = identity.check_login_name(login or name)
            made = identity.add_login(s, c.login, password, lead=c.role == "lead")
            if before and before != c.login:
                identity.drop_login(s, before)
            s.add(c)
            record(
                s,
                actor=self.ctx.actor,
                action="coder.login",
                entity="coder",
                entity_id=c.id,
                before={"login": before},
                after={"login": c.login, "login_created": made},
            )
            return c.login

        return self.ctx.db.run(_do)

    def remove_coder(self, name: str) -> bool:
        """Take a person out of the project (a lead only); True if their row went too.

        In team mode their login leaves the project's groups, so it can no longer
        connect. Someone who has coded, written memos, marked or been assigned
        documents keeps their row, so their work stays attributed; the others
        are deleted.
        """

        def _do(s: Session) -> bool:
            authorize(s, self.ctx.actor, "coder.remove")
            c = find_coder(s, name)
            if c.role == CONSENSUS:
                raise Refused("reserved_coder", name=CONSENSUS)
            before = {"name": c.name, "role": c.role, "login": c.login}
            if c.login and identity.team_mode(s):
                identity.drop_login(s, c.login)
            c.login = None
            work = 0
            for table, coder_id in (
                (Coding, col(Coding.coder_id)),
                (DoneMark, col(DoneMark.coder_id)),
                (Assignment, col(Assignment.coder_id)),
            ):
                work += int(
                    s.execute(
                        select(func.count()).select_from(table).where(coder_id == c.id)
                    ).scalar_one()
                )
            work += int(
                s.execute(
                    select(func.count()).select_from(Memo).where(col(Memo.author) == c.name)
                ).scalar_one()
            )
            gone = work == 0
            if gone:
                s.delete(c)
            else:
                s.add(c)
            record(
                s,
                actor=self.ctx.actor,
                action="coder.remove",
                entity="coder",
                entity_id=c.id,
                before=before,
                after={"deleted": gone},
            )
            return gone

        return self.ctx.db.run(_do)

    # -- what the acting user may do and see -----------------------------
    def status(self) -> ProjectStatus:
        """Project name, schema revision, blind mode and people, for dashboards."""
        from groundcode.store.migrate import current_revision

        with self.ctx.db.read() as s:
            name = get_setting(s, "name")
            blind = blind_active(s)
            coders = [
                CoderRole(name=c.name, role=c.role)
                for c in s.execute(
                    select(Coder).where(col(Coder.role) != "consensus").order_by(col(Coder.id))
                ).scalars()
            ]
        return ProjectStatus(
            name=name,
            blind=blind,
            coders=coders,
            actor=self.ctx.actor,
            schema=current_revision(self.ctx.db),
        )

    def visible_coder_ids(self, coders: Sequence[str] | None = None) -> list[int] | None:
        """Coder ids the acting user may read (None: everyone); blind mode applies."""
        with self.ctx.db.read() as s:
            return readable_coder_ids(s, self.ctx.actor, list(coders) if coders else None)

    def role(self) -> str | None:
        """The acting user's role, or None when nobody (or an unknown name) is acting."""
        if not self.ctx.actor:
            return None
        with self.ctx.db.read() as s:
            c = s.execute(select(Coder).where(Coder.name == self.ctx.actor)).scalars().first()
            return c.role if c else None

    def blind_mode(self) -> bool:
        with self.ctx.db.read() as s:
            return blind_active(s)

    def set_blind_mode(self, on: bool) -> None:
        """Turning blind mode on is open to all; turning it off needs a lead."""

        def _do(s: Session) -> None:
            if not on and (human_coder_count(s) >= 2 or get_setting(s, "blind_mode") == "on"):
                authorize(s, self.ctx.actor, "project.blind_off")
            else:
                authorize(s, self.ctx.actor, "project.blind_on")
            before = get_setting(s, "blind_mode")
            set_setting(s, "blind_mode", "on" if on else "off")
            record(
                s,
                actor=self.ctx.actor,
                action="project.blind_mode",
                entity="project",
                before={"blind_mode": before},
                after={"blind_mode": "on" if on else "off"},
            )

        self.ctx.db.run(_do)
