# SQLModel types columns as their Python values, so select()/where() on them trip mypy's
# overloads; the queries are checked by the tests on SQLite and PostgreSQL instead.
# mypy: disable-error-code="call-overload,arg-type"
"""Who codes what, and what they have finished: assignments, done marks, queues (SPEC §1, §2).

``Project.progress`` is this service. Its facts are recorded, never inferred:

* **Assignment**: the lead gives documents to coders (a split, a seeded
  stratified sample, or a list of numbers). The same documents go to every
  coder named, so their work overlaps for the agreement statistics.
* **Done mark**: a coder's judgement that they read a document and coded all
  they will. A done document with no coding is the judgement "nothing here",
  which agreement counts (SPEC §4) and the saturation curve orders by (§5).
* **Queue**: what a coder was assigned and has not marked done, of the
  included documents. Holdout documents stay out of every queue until the lead
  records the holdout start (``begin_holdout``, the CLI's ``saturation begin``),
  so holdout coding happens after the categories are settled, as the paper's
  test needs.

Every assignment and mark writes an audit row in the same transaction
(``assign``, ``done.mark``, ``done.undo``) with its time, so the order in which
documents were judged can be read back from the log as well as from the table.
The holdout start is the audit event ``saturation.begin`` plus the setting
``holdout_start`` (ISO time, UTC).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from groundcode.domain.errors import (
    BadOption,
    Conflict,
    Forbidden,
    GroundcodeError,
    InvalidInput,
    NotFound,
)
from groundcode.domain.vocab import AuditAction
from groundcode.store.access import blind_for, has_lead
from groundcode.store.settings import get_setting, set_setting
from groundcode.store.tables import (
    Assignment,
    AuditLog,
    Coder,
    Document,
    DoneMark,
    Passage,
    SourceType,
    utcnow,
)

if TYPE_CHECKING:
    import pandas as pd

    from groundcode.store.context import Context

SPLITS = ("build", "holdout", "all")
HOLDOUT_START = "holdout_start"
CHUNK = 5000


def normalise_number(value: str) -> str | None:
    """``2-05``, `` 2-5 ``, full-width ``２－５`` -> ``2-5``; None when it is no number."""
    from groundcode.domain.values import DocNumber

    try:
        return str(DocNumber.parse(value))
    except GroundcodeError:
        return None


def holdout_start(session: Session) -> datetime | None:
    """When the lead recorded the holdout start, or None while it is not started."""
    raw = get_setting(session, HOLDOUT_START)
    if not raw:
        return None
    at = datetime.fromisoformat(raw)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AssignResult:
    coders: tuple[str, ...]
    documents: int  # documents in the selection
    added: int  # new (coder, document) assignments
    already: int  # pairs that were assigned before

    def to_json(self) -> dict[str, Any]:
        return {
            "coders": list(self.coders),
            "documents": self.documents,
            "added": self.added,
            "already": self.already,
        }


@dataclass(frozen=True)
class DoneResult:
    coder: str
    undo: bool
    changed: tuple[str, ...]  # document numbers marked (or unmarked)
    unchanged: tuple[str, ...]  # already in the wanted state

    def to_json(self) -> dict[str, Any]:
        return {
            "coder": self.coder,
            "undo": self.undo,
            "changed": list(self.changed),
            "unchanged": list(self.unchanged),
        }


@dataclass(frozen=True)
class CoderProgress:
    """One coder's row of ``ProgressService.progress``, as the front ends show it."""

    coder: str
    role: str
    assigned: int
    done: int  # of the assigned documents
    queue: int  # assigned, not done, open now
    waiting: int  # holdout documents before the holdout starts
    done_total: int  # every done mark, assigned or not


def _coder(session: Session, name: str) -> Coder:
    coder: Coder | None = (
        session.execute(select(Coder).where(col(Coder.name) == name)).scalars().first()
    )
    if coder is None:
        raise NotFound("coder", name)
    return coder


def _resolve_documents(
    session: Session, numbers: Iterable[str]
) -> list[tuple[int, str, str, str | None]]:
    """(id, number, status, split) for each number, in the order given; unknown ones refused."""
    seen: dict[str, None] = {}  # ordered and O(1) membership: calls carry 100,000 numbers
    for raw in numbers:
        norm = normalise_number(raw)
        if norm is None:
            raise InvalidInput("", 0, "not_a_document_number", str(raw))
        seen.setdefault(norm, None)
    wanted = list(seen)
    found: dict[str, tuple[int, str, str, str | None]] = {}
    for lo in range(0, len(wanted), CHUNK):
        part = wanted[lo : lo + CHUNK]
        for did, num, status, split in session.execute(
            select(
                col(Document.id), col(Document.number), col(Document.status), col(Document.split)
            ).where(col(Document.number).in_(part))
        ).all():
            found[num] = (int(did), num, status, split)
    for num in wanted:
        if num not in found:
            raise NotFound("document", num)
    return [found[n] for n in wanted]


def marked_done(session: Session, coder_id: int | None, document_ids: Sequence[int]) -> set[int]:
    """Which of ``document_ids`` the coder has marked done (read in chunks).

    Marking skips these and undoing removes only these, so both ask the same
    question the same way.
    """
    have: set[int] = set()
    for lo in range(0, len(document_ids), CHUNK):
        have |= set(
            session.execute(
                select(col(DoneMark.document_id)).where(
                    col(DoneMark.coder_id) == coder_id,
                    col(DoneMark.document_id).in_(document_ids[lo : lo + CHUNK]),
                )
            ).scalars()
        )
    return have


def mark_done(
    session: Session,
    coder: Coder,
    document_ids: Sequence[int],
    *,
    actor: str | None,
    numbers: dict[int, str] | None = None,
) -> list[int]:
    """Done marks for ``coder`` on the given documents (inside the caller's transaction).

    Documents already marked are left as they are; the ids newly marked are
    returned. Each new mark gets a ``done.mark`` audit row with the same time.
    Used by ``done`` and by ``codings import --done``.
    """
    assert coder.id is not None
    ids = list(dict.fromkeys(int(d) for d in document_ids))
    have = marked_done(session, coder.id, ids)
    new = [d for d in ids if d not in have]
    if not new:
        return []
    if numbers is None:
        numbers = {}
        for lo in range(0, len(new), CHUNK):
            numbers.update(
                dict(
                    session.execute(
                        select(col(Document.id), col(Document.number)).where(
                            col(Document.id).in_(new[lo : lo + CHUNK])
                        )
                    ).all()
                )
            )
    now = utcnow()
    session.execute(
        insert(DoneMark), [{"coder_id": coder.id, "document_id": d, "marked_at": now} for d in new]
    )
    _audit_many(session, actor, AuditAction.DONE_MARK, coder, new, numbers, now)
    return new


def _audit_many(
    session: Session,
    actor: str | None,
    action: str,
    coder: Coder,
    document_ids: Sequence[int],
    numbers: dict[int, str],
    at: datetime,
) -> None:
    import json

    iso = at.isoformat()
    rows = [
        {
            "at": at,
            "actor": actor,
            "action": action,
            "entity": "document",
            "entity_id": d,
            "before": None,
            "after": json.dumps(
                {"coder": coder.name, "document": numbers.get(d), "at": iso},
                ensure_ascii=False,
                sort_keys=True,
            ),
            "undone": False,
        }
        for d in document_ids
    ]
    if rows:
        session.execute(insert(AuditLog), rows)


class ProgressService:
    """Assignments, done marks, queues and the holdout start, for one acting user."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- assignments -----------------------------------------------------
    def assign(
        self,
        coders: Sequence[str],
        *,
        split: str | None = None,
        sample: float | None = None,
        seed: int | None = None,
        documents: Sequence[str] | None = None,
    ) -> AssignResult:
        """Give the same included documents to every coder named (exactly one selection).

        ``split``: all included documents of the build set, the holdout, or all;
        ``sample``: a fraction of the included documents drawn per source type
        (seeded, the project's seed by default), so every type is represented;
        ``documents``: these numbers. Pairs assigned before are kept, not doubled.
        Needs a lead once the project has one.
        """
        chosen = sum(x is not None and x != [] for x in (split, sample, documents))
        if chosen != 1:
            raise BadOption("selection", str(chosen), "split|sample|documents")
        if split is not None and split not in SPLITS:
            raise BadOption("split", split, "|".join(SPLITS))
        if sample is not None and not 0 < sample <= 1:
            raise BadOption("sample", str(sample), "0 < FRACTION <= 1")
        names = list(dict.fromkeys(c.strip() for c in coders if c.strip()))
        if not names:
            raise BadOption("coders", "", "NAME[,NAME...]")
        actor = self.ctx.actor

        def _do(s: Session) -> AssignResult:
            if has_lead(s):
                me = (
                    None
                    if actor is None
                    else s.execute(select(Coder).where(col(Coder.name) == actor)).scalars().first()
                )
                if me is None or me.role != "lead":
                    raise Forbidden("assign", actor or "", "lead")
            people = [_coder(s, n) for n in names]
            for c in people:
                if c.role == "consensus":
                    raise BadOption("coders", c.name, "coder|lead")
            doc_ids = self._select(s, split=split, sample=sample, seed=seed, documents=documents)
            added = already = 0
            now = utcnow()
            for c in people:
                have: set[int] = set(
                    s.execute(
                        select(col(Assignment.document_id)).where(col(Assignment.coder_id) == c.id)
                    )
                    .scalars()
                    .all()
                )
                new = [d for d in doc_ids if d not in have]
                already += len(doc_ids) - len(new)
                added += len(new)
                if new:
                    s.execute(
                        insert(Assignment),
                        [
                            {
                                "coder_id": c.id,
                                "document_id": d,
                                "assigned_by": actor,
                                "assigned_at": now,
                            }
                            for d in new
                        ],
                    )
                s.add(
                    AuditLog(
                        at=now,
                        actor=actor,
                        action=AuditAction.ASSIGN,
                        entity="coder",
                        entity_id=c.id,
                        after=_json(
                            {
                                "coder": c.name,
                                "split": split,
                                "sample": sample,
                                "seed": seed,
                                "documents": len(doc_ids),
                                "added": len(new),
                                "at": now.isoformat(),
                            }
                        ),
                    )
                )
            return AssignResult(tuple(names), len(doc_ids), added, already)

        return self.ctx.db.run(_do)

    def _select(
        self,
        s: Session,
        *,
        split: str | None,
        sample: float | None,
        seed: int | None,
        documents: Sequence[str] | None,
    ) -> list[int]:
        if documents:
            out = []
            for did, num, status, _split in _resolve_documents(s, documents):
                if status != "included":
                    raise Conflict("document_excluded", num)
                out.append(did)
            return out
        q = select(col(Document.id), col(Document.source_type_id)).where(
            col(Document.status) == "included"
        )
        if split in ("build", "holdout"):
            q = q.where(col(Document.split) == split)
        rows = s.execute(q.order_by(col(Document.source_type_id), col(Document.seq))).all()
        if sample is None:
            return [int(r[0]) for r in rows]
        import numpy as np

        seed = int(get_setting(s, "seed")) if seed is None else seed
        picked: list[int] = []
        for tid in sorted({int(t) for _, t in rows}):
            members = [int(d) for d, t in rows if t == tid]
            rng = np.random.default_rng([seed, tid, 7])  # 7: not the split's stream
            k = int(round(len(members) * sample))
            picked += [members[i] for i in sorted(rng.permutation(len(members))[:k])]
        return picked

    # -- done marks ------------------------------------------------------
    def done(self, numbers: Sequence[str], *, undo: bool = False) -> DoneResult:
        """Mark documents done for the acting coder (or take the marks back with ``undo``).

        Only included documents can be judged; an excluded or unknown number
        refuses the whole call, so nothing is half-marked.
        """
        actor = self.ctx.actor
        if not numbers:
            raise BadOption("documents", "", "DOC_NUMBER...")

        def _do(s: Session) -> DoneResult:
            if actor is None:
                raise Forbidden("done.mark", "", "someone_acting")
            me = _coder(s, actor)
            if me.role == "consensus":
                raise Forbidden("done.mark", actor, "human_coder")
            docs = _resolve_documents(s, numbers)
            for _did, num, status, _split in docs:
                if status != "included":
                    raise Conflict("document_excluded", num)
            ids = [d for d, *_ in docs]
            names = {d: n for d, n, *_ in docs}
            if not undo:
                new = set(mark_done(s, me, ids, actor=actor, numbers=names))
                return DoneResult(
                    me.name,
                    False,
                    tuple(names[d] for d in ids if d in new),
                    tuple(names[d] for d in ids if d not in new),
                )
            have = marked_done(s, me.id, ids)
            gone = [d for d in ids if d in have]
            if gone:
                for lo in range(0, len(gone), CHUNK):
                    s.execute(
                        delete(DoneMark).where(
                            col(DoneMark.coder_id) == me.id,
                            col(DoneMark.document_id).in_(gone[lo : lo + CHUNK]),
                        )
                    )
                _audit_many(s, actor, AuditAction.DONE_UNDO, me, gone, names, utcnow())
            return DoneResult(
                me.name,
                True,
                tuple(names[d] for d in gone),
                tuple(names[d] for d in ids if d not in have),
            )

        return self.ctx.db.run(_do)

    def done_marks(self, coder: str | None = None) -> pd.DataFrame:
        """Done marks: coder, document number, split, marked_at (oldest first)."""
        import pandas as pd

        with self.ctx.db.read() as s:
            q = (
                select(
                    col(Coder.name),
                    col(Document.number),
                    col(Document.split),
                    col(DoneMark.marked_at),
                )
                .join(Coder, col(Coder.id) == col(DoneMark.coder_id))
                .join(Document, col(Document.id) == col(DoneMark.document_id))
                .order_by(col(DoneMark.marked_at), col(DoneMark.id))
            )
            if coder is not None:
                q = q.where(col(Coder.id) == self._visible_coder(s, coder).id)
            elif blind_for(s, self.ctx.actor):
                me = self._me(s)
                q = q.where(col(Coder.id) == me.id)
            rows = s.execute(q).all()
        return pd.DataFrame(rows, columns=["coder", "document", "split", "marked_at"])

    # -- queues and progress ---------------------------------------------
    def queue(self, coder: str | None = None) -> pd.DataFrame:
        """What ``coder`` (default: the acting user) has left: assigned, not done, included.

        Holdout documents stay out until the holdout start. Columns: number,
        type, title, split, passages, assigned_at; in the order they were assigned.
        """
        import pandas as pd

        with self.ctx.db.read() as s:
            who = self._visible_coder(s, coder)
            started = holdout_start(s) is not None
            done_ids = select(col(DoneMark.document_id)).where(col(DoneMark.coder_id) == who.id)
            q = (
                select(
                    col(Document.id),
                    col(Document.number),
                    col(SourceType.slug),
                    col(Document.title),
                    col(Document.split),
                    col(Assignment.assigned_at),
                )
                .join(Document, col(Document.id) == col(Assignment.document_id))
                .join(SourceType, col(SourceType.id) == col(Document.source_type_id))
                .where(
                    col(Assignment.coder_id) == who.id,
                    col(Document.status) == "included",
                    col(Document.id).not_in(done_ids),
                )
                .order_by(col(Assignment.id))
            )
            if not started:
                q = q.where((col(Document.split).is_(None)) | (col(Document.split) != "holdout"))
            rows = s.execute(q).all()
            counts: dict[int, int] = {}
            ids = [int(r[0]) for r in rows]
            from sqlalchemy import func

            for lo in range(0, len(ids), CHUNK):
                counts.update(
                    {
                        int(d): int(n)
                        for d, n in s.execute(
                            select(col(Passage.document_id), func.count())
                            .where(col(Passage.document_id).in_(ids[lo : lo + CHUNK]))
                            .group_by(col(Passage.document_id))
                        ).all()
                    }
                )
        return pd.DataFrame(
            [(r[1], r[2], r[3], r[4], counts.get(int(r[0]), 0), r[5]) for r in rows],
            columns=["number", "type", "title", "split", "passages", "assigned_at"],
        )

    def next_in_queue(self, coder: str | None = None, *, after: str | None = None) -> str | None:
        """The number of the next document in the queue (after ``after`` when given)."""
        numbers = self.queue(coder)["number"].tolist()
        if not numbers:
            return None
        if after is not None:
            after = normalise_number(after) or after
        if after is not None and after in numbers:
            i = numbers.index(after)
            rest = numbers[i + 1 :] + numbers[:i]
            return rest[0] if rest else None
        return str(numbers[0])

    def progress(self) -> pd.DataFrame:
        """Per coder: assigned, done (of those), queue (left now), waiting (holdout, not started),
        done_total (every done mark, assigned or not): ``progress_rows`` as a frame."""
        import pandas as pd

        return pd.DataFrame(
            [astuple(r) for r in self.progress_rows()],
            columns=["coder", "role", "assigned", "done", "queue", "waiting", "done_total"],
        )

    def progress_rows(self) -> tuple[CoderProgress, ...]:
        """One frozen row per coder the acting user may see (blind mode: only themselves).

        The front ends' view of the same counts ``progress`` gives as a frame.
        """
        from sqlalchemy import func

        with self.ctx.db.read() as s:
            started = holdout_start(s) is not None
            blind_me = None
            if blind_for(s, self.ctx.actor):
                blind_me = self._me(s).id
            coders = s.execute(
                select(col(Coder.id), col(Coder.name), col(Coder.role))
                .where(col(Coder.role) != "consensus")
                .order_by(col(Coder.id))
            ).all()
            assigned = {
                (int(c), sp): int(n)
                for c, sp, n in s.execute(
                    select(col(Assignment.coder_id), col(Document.split), func.count())
                    .join(Document, col(Document.id) == col(Assignment.document_id))
                    .where(col(Document.status) == "included")
                    .group_by(col(Assignment.coder_id), col(Document.split))
                ).all()
            }
            done_assigned = {
                (int(c), sp): int(n)
                for c, sp, n in s.execute(
                    select(col(Assignment.coder_id), col(Document.split), func.count())
                    .join(Document, col(Document.id) == col(Assignment.document_id))
                    .join(
                        DoneMark,
                        (col(DoneMark.document_id) == col(Assignment.document_id))
                        & (col(DoneMark.coder_id) == col(Assignment.coder_id)),
                    )
                    .where(col(Document.status) == "included")
                    .group_by(col(Assignment.coder_id), col(Document.split))
                ).all()
            }
            done_total = {
                int(c): int(n)
                for c, n in s.execute(
                    select(col(DoneMark.coder_id), func.count()).group_by(col(DoneMark.coder_id))
                ).all()
            }
        out: list[CoderProgress] = []
        for cid, name, role in coders:
            if blind_me is not None and cid != blind_me:
                continue
            a = sum(v for (c, _), v in assigned.items() if c == cid)
            d = sum(v for (c, _), v in done_assigned.items() if c == cid)
            hold_left = assigned.get((cid, "holdout"), 0) - done_assigned.get((cid, "holdout"), 0)
            waiting = 0 if started else hold_left
            out.append(
                CoderProgress(name, role, a, d, a - d - waiting, waiting, done_total.get(cid, 0))
            )
        return tuple(out)

    # -- the holdout start -------------------------------------------------
    def holdout_start(self) -> datetime | None:
        with self.ctx.db.read() as s:
            return holdout_start(s)

    def begin_holdout(self) -> datetime:
        """The lead records the holdout start (SPEC §5): once, audited as ``saturation.begin``.

        From now on holdout documents enter the queues, and the saturation test
        judges concepts and categories against this moment.
        """
        actor = self.ctx.actor

        def _do(s: Session) -> datetime:
            me = (
                None
                if actor is None
                else s.execute(select(Coder).where(col(Coder.name) == actor)).scalars().first()
            )
            if me is None or me.role != "lead":
                raise Forbidden("saturation.begin", actor or "", "lead")
            already = holdout_start(s)
            if already is not None:
                raise Conflict("holdout_started", already.isoformat(timespec="seconds"))
            now = utcnow()
            set_setting(s, HOLDOUT_START, now.isoformat())
            s.add(
                AuditLog(
                    at=now,
                    actor=actor,
                    action=AuditAction.SATURATION_BEGIN,
                    entity="setting",
                    after=_json({HOLDOUT_START: now.isoformat()}),
                )
            )
            return now

        return self.ctx.db.run(_do)

    # -- who ---------------------------------------------------------------
    def _me(self, s: Session) -> Coder:
        if self.ctx.actor is None:
            raise Forbidden("queue", "", "someone_acting")
        return _coder(s, self.ctx.actor)

    def _visible_coder(self, s: Session, coder: str | None) -> Coder:
        """The coder asked about; in blind mode a coder may ask only about themselves."""
        who = self._me(s) if coder is None else _coder(s, coder)
        if self.ctx.actor != who.name and blind_for(s, self.ctx.actor):
            raise Forbidden("queue", self.ctx.actor or "", "lead")
        return who


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
