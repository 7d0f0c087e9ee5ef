"""The facade a script, a notebook, the CLI and the TUI all start from.

    from groundcode import Project
    with Project.open("study.db", user="lin") as p:
        p.corpus.documents()          # a DataFrame
        p.analysis.agreement()        # plain objects
        p.progress.queue("lin")       # what lin has left to code (a DataFrame)

One ``Project`` holds one engine; its services open one short transaction
per call and return plain objects or DataFrames, never live ORM rows.

``Project`` builds the rooms (docs/ARCHITECTURE.md) and hands each the
siblings it reads through its constructor; no room builds another.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError, ProgrammingError

from groundcode.coding.service import CodingService
from groundcode.domain.errors import Conflict, GroundcodeError, InvalidInput, NotAProject
from groundcode.store import migrate
from groundcode.store.context import Context
from groundcode.store.engine import Database, is_sqlite, redact_url, to_url
from groundcode.store.identity import SignInFailed, TeamNeedsPostgres, resolve_actor
from groundcode.store.seed import seed_defaults
from groundcode.store.settings import set_setting

if TYPE_CHECKING:
    from groundcode.analysis.queries import QueryService
    from groundcode.analysis.service import AnalysisService
    from groundcode.backup.service import BackupService
    from groundcode.coding.codebook import CodebookService
    from groundcode.coding.memos import MemoService
    from groundcode.coding.progress import ProgressService
    from groundcode.corpus.service import CorpusService
    from groundcode.exports.service import ExportService
    from groundcode.interchange.service import InterchangeService
    from groundcode.people.service import PeopleService


def _connect_error(db: Database, exc: Exception) -> GroundcodeError:
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else "failed"
    if db.url.username and (
        "password authentication failed" in detail or "permission denied for database" in detail
    ):
        # Wrong password, unknown login or no longer a member: the same line for all three.
        return SignInFailed(db.url.username)
    # libpq may echo connection parameters; never let a password through.
    if db.url.password:
        detail = detail.replace(str(db.url.password), "***")
    return InvalidInput(db.display_url, 0, "cannot_open_database", detail)


def _create_private(path: Path) -> None:
    """A new SQLite project file readable by its owner only: the file is the trust boundary."""
    if path.exists() or not path.parent.is_dir():
        return
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _refresh_team(db: Database) -> None:
    """After a schema upgrade, give new tables the team's grants and policies."""
    if db.is_sqlite:
        return
    from groundcode.store.identity import init_team, team_mode

    with db.read() as s:
        on = team_mode(s)
    if on:
        init_team(db)


class CodingDesk(CodingService):
    """``p.coding``: the codings room, still answering what it answered before the rooms.

    Scripts, notebooks and the front ends call ``p.coding.add_coder(...)``,
    ``p.coding.add_memo(...)`` or ``p.coding.frequencies(...)``; those now live
    in the people room, the memos room and ``analysis.queries``, and are the
    same bound methods here. New code calls the room itself (``p.people``,
    ``p.memos``, ``p.queries``).
    """

    def __init__(
        self, ctx: Context, *, people: PeopleService, memos: MemoService, queries: QueryService
    ) -> None:
        super().__init__(ctx)
        self.coders = people.coders
        self.add_coder = people.add_coder
        self.give_login = people.give_login
        self.remove_coder = people.remove_coder
        self.status = people.status
        self.visible_coder_ids = people.visible_coder_ids
        self.role = people.role
        self.blind_mode = people.blind_mode
        self.set_blind_mode = people.set_blind_mode
        self.add_memo = memos.add_memo
        self.edit_memo = memos.edit_memo
        self.delete_memo = memos.delete_memo
        self.memos = memos.memos
        self.memos_page = memos.memos_page
        self.frequencies = queries.frequencies
        self.cooccurrence = queries.cooccurrence
        self.retrieve = queries.retrieve
        self.coverage = queries.coverage
        self.progress = queries.progress


class Project:
    def __init__(self, db: Database, *, user: str | None = None) -> None:
        self.db = db
        self.ctx = Context(db=db, actor=user)

    # -- opening ---------------------------------------------------------
    @classmethod
    def open(cls, path_or_url: str | Path | URL, *, user: str | None = None) -> Project:
        """Open an existing project, upgrading an older schema in place."""
        url = to_url(path_or_url)
        if is_sqlite(url) and url.database and not Path(url.database).exists():
            raise NotAProject(str(url.database), "missing")
        db = Database(url)
        try:
            current = migrate.current_revision(db)
            if current is None:
                db.dispose()
                raise NotAProject(db.display_url, "foreign")
            if migrate.upgrade(db):
                _refresh_team(db)
        except (OperationalError, ProgrammingError) as exc:
            db.dispose()
            raise _connect_error(db, exc) from None
        return cls._acting(db, user)

    @classmethod
    def sign_in(cls, location: str | URL, login: str, password: str) -> Project:
        """Open a PostgreSQL project as ``login`` with ``password`` (the serve sign-in).

        The password lives only in the engine's URL, in memory; an empty one is
        refused here, so libpq never falls back to a password of the machine's
        own (``PGPASSWORD``, ``~/.pgpass``).
        """
        url = to_url(location)
        if is_sqlite(url):
            raise TeamNeedsPostgres(str(url.database))
        login = login.strip()
        if not login or not password:
            raise SignInFailed(login)
        return cls.open(url.set(username=login, password=password))

    @classmethod
    def _acting(cls, db: Database, user: str | None) -> Project:
        """The project acting as ``user``; on PostgreSQL in team mode, as the signed-in login."""
        try:
            actor = resolve_actor(db, user)
        except BaseException:
            db.dispose()
            raise
        return cls(db, user=actor)

    @classmethod
    def create(
        cls, path_or_url: str | Path | URL, *, name: str | None = None, user: str | None = None
    ) -> Project:
        """Create a project, or upgrade and reopen one that is already there."""
        url = to_url(path_or_url)
        if is_sqlite(url) and url.database and url.database != ":memory:":
            _create_private(Path(url.database))
        db = Database(url)
        try:
            if migrate.current_revision(db) is None and migrate.foreign_tables(db):
                # Someone else's database: never add groundcode's tables to it.
                db.dispose()
                raise Conflict(what="foreign_database", name=db.display_url)
            if migrate.upgrade(db):
                _refresh_team(db)
        except (OperationalError, ProgrammingError) as exc:
            db.dispose()
            raise _connect_error(db, exc) from None

        def _seed(session):  # type: ignore[no-untyped-def]
            seed_defaults(session)
            if name:
                set_setting(session, "name", name)

        db.run(_seed)
        return cls._acting(db, user)

    def as_user(self, user: str | None) -> Project:
        """The same project (same engine) acting as someone else (team mode: only yourself)."""
        return Project(self.db, user=resolve_actor(self.db, user))

    @property
    def user(self) -> str | None:
        return self.ctx.actor

    @property
    def location(self) -> str:
        return self.db.display_url if self.db.is_sqlite else redact_url(self.db.url)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- services (imported lazily so opening a project stays cheap) -----
    @cached_property
    def corpus(self) -> CorpusService:
        from groundcode.corpus.service import CorpusService

        return CorpusService(self.ctx)

    @cached_property
    def people(self) -> PeopleService:
        """Coders, roles, logins, blind mode (``groundcode.people``)."""
        from groundcode.people.service import PeopleService

        return PeopleService(self.ctx)

    @cached_property
    def memos(self) -> MemoService:
        """Memos on the project, documents, codings and codebook items (``coding.memos``)."""
        from groundcode.coding.memos import MemoService

        return MemoService(self.ctx)

    @cached_property
    def codings(self) -> CodingService:
        """The codings room alone (``coding.service``): what the other rooms are handed."""
        return CodingService(self.ctx)

    @cached_property
    def queries(self) -> QueryService:
        """Frequencies, co-occurrence, retrieval, coverage (``analysis.queries``, read-only)."""
        from groundcode.analysis.queries import QueryService

        return QueryService(self.ctx, self.codings)

    @cached_property
    def coding(self) -> CodingDesk:
        """The codings room with the people, memo and query calls it answered before the split."""
        return CodingDesk(self.ctx, people=self.people, memos=self.memos, queries=self.queries)

    @cached_property
    def codebook(self) -> CodebookService:
        from groundcode.coding.codebook import CodebookService

        return CodebookService(self.ctx)

    @cached_property
    def progress(self) -> ProgressService:
        """Assignments, done marks, queues and the holdout start (``groundcode.coding.progress``)."""
        from groundcode.coding.progress import ProgressService

        return ProgressService(self.ctx)

    @cached_property
    def analysis(self) -> AnalysisService:
        from groundcode.analysis.service import AnalysisService

        return AnalysisService(
            self.ctx, corpus=self.corpus, codings=self.codings, codebook=self.codebook
        )

    @cached_property
    def exports(self) -> ExportService:
        from groundcode.exports.service import ExportService

        return ExportService(
            self.ctx,
            corpus=self.corpus,
            codings=self.codings,
            memos=self.memos,
            codebook=self.codebook,
            analysis=self.analysis,
            interchange=self.interchange,
            queries=self.queries,
        )

    @cached_property
    def backup(self) -> BackupService:
        """Whole-project backup and restore (``groundcode.backup``)."""
        from groundcode.backup.service import BackupService

        return BackupService(self.ctx)

    @cached_property
    def interchange(self) -> InterchangeService:
        from groundcode.interchange.service import InterchangeService

        return InterchangeService(self.ctx, corpus=self.corpus, codebook=self.codebook)
