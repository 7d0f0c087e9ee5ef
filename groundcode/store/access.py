"""Who may change what, and who may see whose work: the one place it is decided.

Two questions, answered here and nowhere else:

* **May this person make this change?** Every changing action has a name in
  ``ACTIONS`` and one ``Rule``: a lead (``LEAD``); a lead once the project has
  one, anyone before (``LEAD_ONCE_ONE_EXISTS``: setting up a project is open
  until somebody takes charge of it); anyone before a lead exists and then any
  named person (``NAMED_ONCE_LEAD_EXISTS``: turning blind mode on); or a named
  person acting on their own work (``SELF``). ``authorize(session, actor, action)`` checks the rule inside
  the caller's transaction and raises ``Forbidden(action, actor, needs)``.
  Once a lead exists nobody anonymous changes anything, and the audit log
  never records an empty actor (``audit_actor``).

* **Whose codings may this person read?** ``visibility(session, actor)``
  computes, once per call, a ``Visibility``: whether blind mode is on, who is
  acting, and the coder ids they may read (``None``: everyone). Services ask
  it for codings, memos, the codebook (concepts only another coder created),
  consensus, agreement and backups; front ends ask the services, never the
  tables. In blind mode a coder sees only their own work; a lead sees all; a
  read by nobody in particular is refused, not answered with everything.

The trust boundary: on PostgreSQL the server's roles can enforce this too; an
SQLite project is one file, and whoever can write the file can change
anything in it (``UPDATE coder SET role='lead'``). groundcode honours roles on
every path it offers; it cannot stop someone editing the file with another
program. Give each coder their own copy, or use PostgreSQL, when that matters.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, func, select

from groundcode.domain.errors import BlindHidden, Forbidden, NotFound
from groundcode.store.seed import CONSENSUS
from groundcode.store.settings import get_setting
from groundcode.store.tables import Coder


class Rule(StrEnum):
    """Who may take an action (the ``needs`` of a refusal)."""

    LEAD = "lead"
    LEAD_ONCE_ONE_EXISTS = "lead_once_one_exists"
    NAMED_ONCE_LEAD_EXISTS = "named_once_lead_exists"
    SELF = "self"


# Every changing action groundcode offers, and who may take it. A service
# calls ``authorize`` with one of these names before it writes; a test walks
# this table with an anonymous caller, a coder, another coder and a lead.
ACTIONS: dict[str, Rule] = {
    # corpus: what the study is about is the lead's decision
    "corpus.import": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.source_type": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.screen": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.exclude": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.include": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.dedup": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.sample": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.split": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.personal": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.redact": Rule.LEAD_ONCE_ONE_EXISTS,
    "corpus.import_qdpx": Rule.LEAD_ONCE_ONE_EXISTS,
    "project.restore": Rule.LEAD_ONCE_ONE_EXISTS,
    "project.user_dict": Rule.LEAD_ONCE_ONE_EXISTS,
    "project.forbid_cycles": Rule.LEAD_ONCE_ONE_EXISTS,
    # people
    "coder.add": Rule.LEAD_ONCE_ONE_EXISTS,
    "coder.assign": Rule.LEAD_ONCE_ONE_EXISTS,
    "coder.login": Rule.LEAD,
    "coder.remove": Rule.LEAD,
    "project.blind_off": Rule.LEAD,
    "project.blind_on": Rule.NAMED_ONCE_LEAD_EXISTS,
    # codebook structure (codings themselves create concepts: that is SELF)
    "codebook.structure": Rule.LEAD_ONCE_ONE_EXISTS,
    # consensus and the holdout belong to the lead
    "reconcile": Rule.LEAD,
    "saturation.begin": Rule.LEAD,
    "codings.import_consensus": Rule.LEAD,
    "codings.import_others": Rule.LEAD_ONCE_ONE_EXISTS,
    # one's own work
    "coding.apply": Rule.SELF,
    "coding.remove": Rule.SELF,
    "coding.span": Rule.SELF,
    "coding.undo": Rule.SELF,
    "coding.import": Rule.SELF,
    "coding.done": Rule.SELF,
    "memo.add": Rule.SELF,
    "memo.edit": Rule.SELF,
    "memo.delete": Rule.SELF,
}


# -- people ---------------------------------------------------------------
def human_coder_count(session: Session) -> int:
    return int(
        session.exec(select(func.count()).select_from(Coder).where(Coder.role != "consensus")).one()
    )


def has_lead(session: Session) -> bool:
    return session.exec(select(Coder.id).where(Coder.role == "lead")).first() is not None


def blind_active(session: Session) -> bool:
    mode = get_setting(session, "blind_mode")
    if mode == "on":
        return True
    if mode == "off":
        return False
    return human_coder_count(session) >= 2


def blind_for(session: Session, actor: str | None) -> bool:
    """Whether blind mode narrows what ``actor`` sees: it is on and they are no lead.

    Nobody acting and a name that is no coder count as not a lead (the caller
    decides whether that is refused); the one test of "blind and not a lead".
    """
    if not blind_active(session):
        return False
    me = session.exec(select(Coder).where(Coder.name == actor)).first() if actor else None
    return me is None or me.role != "lead"


def find_coder(session: Session, name: str) -> Coder:
    coder = session.exec(select(Coder).where(Coder.name == name)).first()
    if coder is None:
        raise NotFound(kind="coder", name=name)
    return coder


def acting_coder(session: Session, actor: str | None) -> Coder | None:
    return None if not actor else find_coder(session, actor)


def is_lead(session: Session, actor: str | None) -> bool:
    coder = acting_coder(session, actor)
    return coder is not None and coder.role == "lead"


def audit_actor(actor: str | None) -> str:
    """Who the audit log names: the acting person, else the operating-system login.

    Anonymous changes are only possible before a project has a lead; even then
    the log says which account made them rather than nothing.
    """
    if actor:
        return actor
    try:
        login = getpass.getuser()
    except (OSError, KeyError):  # no login name (containers without a passwd entry)
        login = "unknown"
    return f"os:{login}"


# -- authorisation --------------------------------------------------------
def authorize(session: Session, actor: str | None, action: str) -> Coder | None:
    """Check that ``actor`` may take ``action`` now; the acting coder (None: nobody).

    Raises ``Forbidden(action, actor, needs)`` with ``needs`` one of ``lead``
    (only a lead may), ``actor`` (say who you are) or ``self`` (a person, not
    the consensus set). An unknown name is ``NotFound(coder)``.
    """
    rule = ACTIONS[action]
    me = session.exec(select(Coder).where(Coder.name == actor)).first() if actor else None
    if actor and me is None:
        # Setting up a project (before it has a lead) may name someone not yet added.
        if rule in (Rule.LEAD_ONCE_ONE_EXISTS, Rule.NAMED_ONCE_LEAD_EXISTS) and not has_lead(
            session
        ):
            return None
        raise NotFound(kind="coder", name=actor)
    if rule is Rule.NAMED_ONCE_LEAD_EXISTS and me is None and has_lead(session):
        raise Forbidden(action=action, actor="", needs="actor")
    if me is not None and me.role == "consensus":
        # The consensus set is written by reconcile, never by someone acting as it.
        raise Forbidden(action=action, actor=me.name, needs="self")
    if rule is Rule.SELF:
        if me is None:
            raise Forbidden(action=action, actor="", needs="actor")
        return me
    if me is not None and me.role == "lead":
        return me
    if rule is Rule.NAMED_ONCE_LEAD_EXISTS and me is not None:
        return me
    if rule is not Rule.LEAD and not has_lead(session):
        return me
    raise Forbidden(action=action, actor=actor or "", needs="lead")


def require_actor(session: Session, actor: str | None, action: str = "coding.apply") -> Coder:
    """The acting person for an action on their own work (``Rule.SELF``)."""
    me = authorize(session, actor, action)
    assert me is not None
    return me


def require_lead(session: Session, actor: str | None, action: str) -> Coder:
    """A lead, whatever the project: for actions that exist only once a lead does."""
    me = acting_coder(session, actor)
    if me is None or me.role != "lead":
        raise Forbidden(action=action, actor=actor or "", needs="lead")
    return me


# -- visibility -----------------------------------------------------------
@dataclass(frozen=True)
class Visibility:
    """What the acting person may read, computed once per call.

    ``coder_ids`` None means every coder's work; otherwise exactly these ids.
    ``refused`` is set when nobody is acting in blind mode: every read of
    codings is then refused (the structure of the codebook is still shown).
    """

    blind: bool
    actor: str | None
    me_id: int | None
    role: str | None
    coder_ids: frozenset[int] | None
    refused: bool = False

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    @property
    def sees_everyone(self) -> bool:
        return self.coder_ids is None and not self.refused

    def require_reader(self) -> None:
        if self.refused:
            raise Forbidden(action="read.codings", actor="", needs="actor")

    def ids(self) -> list[int] | None:
        """The readable coder ids as a list (None: all); refused when nobody acts in blind mode."""
        self.require_reader()
        return None if self.coder_ids is None else sorted(self.coder_ids)

    def may_see(self, coder_id: int | None) -> bool:
        if self.refused:
            return False
        return self.coder_ids is None or coder_id in self.coder_ids

    def check_ids(self, requested: Iterable[int]) -> list[int]:
        """``requested`` if all are readable; refused (never silently narrowed) otherwise."""
        wanted = list(requested)
        self.require_reader()
        hidden = [i for i in wanted if not self.may_see(i)]
        if hidden:
            raise BlindHidden(actor=self.actor or "", others=", ".join(map(str, hidden)))
        return wanted

    def lead_only(self, action: str) -> None:
        """In blind mode, only a lead may ``action`` (agreement, the others' work)."""
        if self.blind and not self.is_lead:
            raise Forbidden(action=action, actor=self.actor or "", needs="lead")

    def default_basis(self) -> str | None:
        """Whose codings an analysis uses by default in blind mode: consensus for a
        lead, one's own for a coder; None when the project is not blind."""
        if not self.blind:
            return None
        self.require_reader()
        return CONSENSUS if self.is_lead else self.actor


def visibility(session: Session, actor: str | None) -> Visibility:
    """The visibility rule, applied to ``actor`` on this project now."""
    me = acting_coder(session, actor)
    blind = blind_active(session)
    role = me.role if me is not None else None
    me_id = me.id if me is not None else None
    if not blind or role == "lead":
        return Visibility(blind, actor, me_id, role, None)
    if me is None or role == "consensus":
        # Nobody named, or someone "acting as" the consensus set (which is the lead's
        # to read): in blind mode every read of codings is refused.
        return Visibility(blind, actor, None, None, frozenset(), refused=True)
    assert me.id is not None
    return Visibility(blind, actor, me.id, role, frozenset({me.id}))


def hidden_creators(session: Session, actor: str | None) -> set[str]:
    """Coders whose own concepts ``actor`` may not see (blind mode): the other coders.

    A concept another coder created is their open coding; in blind mode it stays
    out of a coder's codebook views and exports unless the coder's own codings
    use it. Concepts a lead created (the shared codebook) are always shown.
    """
    view = visibility(session, actor)
    if view.coder_ids is None:
        return set()
    return {
        c.name
        for c in session.exec(select(Coder).where(Coder.role == "coder")).all()
        if not view.may_see(c.id)
    }


def readable_coder_ids(
    session: Session, actor: str | None, requested: Sequence[str] | None = None
) -> list[int] | None:
    """Coder ids whose codings ``actor`` may read; None means "all coders".

    ``requested`` narrows the answer to named coders; asking for someone
    you may not see is refused rather than silently answered with less.
    """
    view = visibility(session, actor)
    if requested:
        wanted = [find_coder(session, name) for name in requested]
        view.require_reader()
        hidden = [c.name for c in wanted if not view.may_see(c.id)]
        if hidden:
            raise BlindHidden(actor=actor or "", others=", ".join(hidden))
        return [c.id for c in wanted if c.id is not None]
    return view.ids()


def consensus_coder(session: Session) -> Coder:
    return find_coder(session, CONSENSUS)
