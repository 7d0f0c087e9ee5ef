"""Who may read and change what: blind mode and roles, enforced below every UI.

Every service that reads codings or memos asks ``readable_coder_ids`` which
coders' rows the acting user may see. In blind mode a coder sees only their
own work; only a lead sees other coders, agreement, or turns blind mode off.
A read in blind mode by nobody in particular is refused, not answered with
everything.
"""

from __future__ import annotations

from sqlmodel import Session, func, select

from groundcode.errors import NotFound, PermissionDenied, UsageError
from groundcode.store.seed import CONSENSUS
from groundcode.store.settings import get_setting
from groundcode.store.tables import Coder


def human_coder_count(session: Session) -> int:
    return int(
        session.exec(select(func.count()).select_from(Coder).where(Coder.role != "consensus")).one()
    )


def blind_active(session: Session) -> bool:
    mode = get_setting(session, "blind_mode")
    if mode == "on":
        return True
    if mode == "off":
        return False
    return human_coder_count(session) >= 2


def find_coder(session: Session, name: str) -> Coder:
    coder = session.exec(select(Coder).where(Coder.name == name)).first()
    if coder is None:
        raise NotFound(f"no coder named '{name}' (add one with: groundcode coder add {name})")
    return coder


def acting_coder(session: Session, actor: str | None) -> Coder | None:
    return None if actor is None else find_coder(session, actor)


def require_actor(session: Session, actor: str | None) -> Coder:
    if actor is None:
        raise UsageError("say who is acting: --as NAME (or GROUNDCODE_USER)")
    coder = find_coder(session, actor)
    if coder.role == "consensus":
        raise PermissionDenied("the consensus set is written by reconcile, not by a person")
    return coder


def is_lead(session: Session, actor: str | None) -> bool:
    coder = acting_coder(session, actor)
    return coder is not None and coder.role == "lead"


def require_lead(session: Session, actor: str | None, what: str) -> Coder:
    coder = acting_coder(session, actor)
    if coder is None or coder.role != "lead":
        who = "nobody named" if coder is None else f"'{coder.name}' is a {coder.role}"
        raise PermissionDenied(f"{what} needs a lead ({who}; use --as LEAD)")
    return coder


def readable_coder_ids(
    session: Session, actor: str | None, requested: list[str] | None = None
) -> list[int] | None:
    """Coder ids whose codings ``actor`` may read; None means "all coders".

    ``requested`` narrows the answer to named coders; asking for someone
    you may not see is refused rather than silently answered with less.
    """
    wanted: list[Coder] | None = None
    if requested:
        wanted = [find_coder(session, name) for name in requested]
    if not blind_active(session):
        return None if wanted is None else [c.id for c in wanted if c.id is not None]
    if actor is None:
        raise PermissionDenied("the project is in blind mode: say who you are with --as NAME")
    me = find_coder(session, actor)
    if me.role == "lead":
        return None if wanted is None else [c.id for c in wanted if c.id is not None]
    assert me.id is not None
    if wanted is not None:
        others = [c.name for c in wanted if c.id != me.id]
        if others:
            raise PermissionDenied(
                f"blind mode: {me.name} may not see the work of {', '.join(others)}"
            )
    return [me.id]


def consensus_coder(session: Session) -> Coder:
    return find_coder(session, CONSENSUS)
