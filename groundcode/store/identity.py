"""Who is acting, known by the database: team mode on PostgreSQL.

On SQLite one person works on one file, and the file (owner-only
permissions) is the trust boundary; ``--as`` only names whose work it is.
On PostgreSQL that is not enough: a coder's own login could read every row
with psql. ``groundcode team init`` (run once by the database owner) makes
the database enforce the rules itself:

* two group roles per database, ``gc_<db>_lead`` and ``gc_<db>_coder``, with
  table privileges (coders read the corpus and the codebook, write only their
  own work; leads manage the corpus, the codebook and the people);
* row-level security on ``coding``, ``memo``, ``done_mark``, ``assignment``,
  ``audit_log``, ``concept`` and ``setting``: in blind mode a coder's login
  reads only its own rows, leads read everything, nobody inserts a row in
  another person's name, only leads change settings such as blind mode or
  the holdout start;
* each person is a login role, mapped to their coder row by ``coder.login``;
  the policies find the acting coder from ``session_user``, so the acting
  person is whoever signed in to the database, whatever a client claims.

The policies read ``session_user`` through small SQL functions (``gc_me``,
``gc_is_lead``, ``gc_blind``) that are schema-qualified and pin their
``search_path``, so a temporary table cannot stand in for ``coder``.
Identifiers are quoted by psycopg, literals passed as parameters or quoted by
psycopg; a person's name reaches SQL only after :func:`check_login_name`.
Passwords are hashed on the client (libpq's SCRAM) before they reach the
server, so neither the server log nor ``pg_stat_activity`` ever sees one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from groundcode.domain.errors import GroundcodeError
from groundcode.store.engine import Database

TEAM_SETTING = "team_mode"
CONSENSUS = "consensus"
# Settings a coder's login may write (caches, not decisions); every other key is a lead's.
CODER_SETTINGS = ("search_indexed_upto",)
MAX_ROLE_BYTES = 63
_LOGIN_RE = re.compile(r"^[\w.\-]+$")
_RESERVED = {"public", "none", "current_user", "session_user", "current_role", "all", CONSENSUS}


# -- errors (worded in locale/*/LC_MESSAGES/team.po) ----------------------------
@dataclass(eq=False)
class ActingAsOther(GroundcodeError):
    """On PostgreSQL in team mode the acting person is the database login."""

    login: str
    asked: str


@dataclass(eq=False)
class NotAPerson(GroundcodeError):
    """A database login that is no person of this project (and not its owner)."""

    login: str


@dataclass(eq=False)
class BadLoginName(GroundcodeError):
    """A name that cannot be a database login; refused before any SQL is built."""

    name: str


@dataclass(eq=False)
class NotOwner(GroundcodeError):
    """Team setup changes roles and policies: only the database owner may."""

    login: str
    database: str


@dataclass(eq=False)
class TeamNeedsPostgres(GroundcodeError):
    """Team mode lives in PostgreSQL; an SQLite file is one person's project."""

    location: str


@dataclass(eq=False)
class NeedsPassword(GroundcodeError):
    """A new login needs a password (a prompt, or GROUNDCODE_NEW_PASSWORD)."""

    login: str


@dataclass(eq=False)
class LoginRefused(GroundcodeError):
    """A login that may not be given to a person (a superuser, the owner, a group)."""

    login: str


@dataclass(eq=False)
class SignInFailed(GroundcodeError):
    """Wrong password or no such login: the server does not say which, nor do we."""

    login: str


# -- names ----------------------------------------------------------------------
def check_login_name(name: str) -> str:
    """``name`` if it can be a login role; refused otherwise (never quoted around).

    Letters (any script), digits, ``_ - .``; at most 63 bytes; not ``pg_...``
    (reserved by PostgreSQL) nor a reserved word. Quotes, spaces and semicolons
    never get this far, so no name can change the meaning of a statement.
    """
    if (
        not name
        or not _LOGIN_RE.match(name)
        or len(name.encode()) > MAX_ROLE_BYTES
        or name.lower().startswith("pg_")
        or name.lower() in _RESERVED
    ):
        raise BadLoginName(name)
    return name


def _fit(prefix: str, middle: str, suffix: str) -> str:
    name = f"{prefix}{middle}{suffix}"
    if len(name.encode()) <= MAX_ROLE_BYTES:
        return name
    digest = hashlib.sha1(middle.encode()).hexdigest()[:8]
    room = MAX_ROLE_BYTES - len(prefix) - len(suffix) - 9
    cut = middle.encode()[:room].decode(errors="ignore")
    return f"{prefix}{cut}_{digest}{suffix}"


def group_roles(database: str) -> tuple[str, str]:
    """The lead and coder group roles of one database (two projects never share them)."""
    return _fit("gc_", database, "_lead"), _fit("gc_", database, "_coder")


# -- who is this session --------------------------------------------------------
@dataclass(frozen=True)
class Identity:
    """The database's answer to "who is this": the login and the person it maps to."""

    login: str
    coder: str | None  # the coder row mapped to this login
    role: str | None  # that coder's role
    admin: bool  # the database owner or a superuser: outside the rules, like a file owner
    team: bool  # team init has been run on this database


def _raw(session: Session) -> Any:
    """The psycopg connection under ``session`` (same transaction)."""
    return session.connection().connection.driver_connection


def team_mode(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    row = session.execute(
        text("SELECT value FROM setting WHERE key = :k"), {"k": TEAM_SETTING}
    ).first()
    return row is not None and row[0] == "on"


def whoami(session: Session) -> Identity:
    login = str(session.execute(text("SELECT session_user")).scalar())
    admin = bool(
        session.execute(
            text(
                "SELECT r.rolsuper OR d.datdba = r.oid FROM pg_roles r, pg_database d "
                "WHERE r.rolname = session_user AND d.datname = current_database()"
            )
        ).scalar()
    )
    row = session.execute(
        text("SELECT name, role FROM coder WHERE login = :l"), {"l": login}
    ).first()
    return Identity(
        login=login,
        coder=row[0] if row else None,
        role=row[1] if row else None,
        admin=admin,
        team=team_mode(session),
    )


def resolve_actor(db: Database, requested: str | None) -> str | None:
    """The acting person on ``db``: on PostgreSQL in team mode, the signed-in login.

    Asking to act as someone else is refused; a lead may act as ``consensus``.
    The database owner (who holds every row anyway, and whom row-level
    security does not bind) may name anyone, and the audit log records the
    owner's login beside that name.
    """
    if db.is_sqlite:
        return requested
    with db.read() as s:
        if not team_mode(s):
            return requested
        me = whoami(s)
    if me.coder is None:
        if me.admin:
            return requested
        raise NotAPerson(me.login)
    if requested is None or requested == me.coder:
        return me.coder
    if requested == CONSENSUS and me.role == "lead":
        return CONSENSUS
    raise ActingAsOther(me.login, requested)


# -- setup ----------------------------------------------------------------------
# Tables whose rows only leads write freely (policies narrow some of them further):
# every table of the schema but the three whose writes are column- or row-limited for all.
_SPECIAL = {"coding", "memo", "audit_log"}


def _lead_tables() -> list[str]:
    from groundcode.store.tables import metadata

    return sorted(t for t in metadata.tables if t not in _SPECIAL)


_CODING_COLS = 'concept_id, passage_id, start, "end", snippet, assisted, created_at'
_MEMO_COLS = "target_kind, target_id, text, updated_at"

_FUNCTIONS = """
CREATE OR REPLACE FUNCTION {s}.gc_me() RETURNS integer LANGUAGE sql STABLE
  SET search_path = pg_catalog, {s}, pg_temp
  AS $$ SELECT id FROM {s}.coder WHERE login = session_user::text $$;
CREATE OR REPLACE FUNCTION {s}.gc_my_name() RETURNS text LANGUAGE sql STABLE
  SET search_path = pg_catalog, {s}, pg_temp
  AS $$ SELECT name FROM {s}.coder WHERE login = session_user::text $$;
CREATE OR REPLACE FUNCTION {s}.gc_is_lead() RETURNS boolean LANGUAGE sql STABLE
  SET search_path = pg_catalog, {s}, pg_temp
  AS $$ SELECT EXISTS (SELECT 1 FROM {s}.coder WHERE login = session_user::text AND role = 'lead')
        AND pg_has_role(session_user, {lead_lit}, 'MEMBER') $$;
CREATE OR REPLACE FUNCTION {s}.gc_consensus() RETURNS integer LANGUAGE sql STABLE
  SET search_path = pg_catalog, {s}, pg_temp
  AS $$ SELECT id FROM {s}.coder WHERE role = 'consensus' ORDER BY id LIMIT 1 $$;
CREATE OR REPLACE FUNCTION {s}.gc_blind() RETURNS boolean LANGUAGE sql STABLE
  SET search_path = pg_catalog, {s}, pg_temp
  AS $$ SELECT CASE (SELECT value FROM {s}.setting WHERE key = 'blind_mode')
          WHEN 'on' THEN true WHEN 'off' THEN false
          ELSE (SELECT count(*) FROM {s}.coder WHERE role <> 'consensus') >= 2 END $$;
CREATE OR REPLACE FUNCTION {s}.gc_add_login(p_login text, p_verifier text, p_lead boolean)
  RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, {s}, pg_temp AS $$
DECLARE
  r record;
  made boolean := false;
BEGIN
  IF NOT {s}.gc_is_lead() AND NOT pg_has_role(session_user, {owner_lit}, 'MEMBER') THEN
    RAISE EXCEPTION 'only a lead adds people' USING ERRCODE = '42501';
  END IF;
  SELECT rolsuper, rolcanlogin INTO r FROM pg_roles WHERE rolname = p_login;
  IF NOT FOUND THEN
    IF p_verifier IS NULL OR p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
      RAISE EXCEPTION 'a new login needs a hashed password' USING ERRCODE = '22023';
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', p_login, p_verifier);
    made := true;
  ELSIF r.rolsuper OR NOT r.rolcanlogin OR p_login IN ({owner_lit}, {lead_lit}, {coder_lit}) THEN
    RAISE EXCEPTION 'this login cannot be a person of the project' USING ERRCODE = '42501';
  END IF;
  IF p_lead THEN
    EXECUTE format('GRANT %I TO %I', {lead_lit}, p_login);
    IF pg_has_role(p_login, {coder_lit}, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', {coder_lit}, p_login);
    END IF;
  ELSE
    EXECUTE format('GRANT %I TO %I', {coder_lit}, p_login);
    IF pg_has_role(p_login, {lead_lit}, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', {lead_lit}, p_login);
    END IF;
  END IF;
  RETURN made;
END $$;
CREATE OR REPLACE FUNCTION {s}.gc_drop_login(p_login text) RETURNS void LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, {s}, pg_temp AS $$
BEGIN
  IF NOT {s}.gc_is_lead() AND NOT pg_has_role(session_user, {owner_lit}, 'MEMBER') THEN
    RAISE EXCEPTION 'only a lead removes people' USING ERRCODE = '42501';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login AND NOT rolsuper) THEN
    IF pg_has_role(p_login, {lead_lit}, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', {lead_lit}, p_login);
    END IF;
    IF pg_has_role(p_login, {coder_lit}, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', {coder_lit}, p_login);
    END IF;
  END IF;
END $$;
CREATE OR REPLACE FUNCTION {s}.gc_is_mask(p_old text, p_new text) RETURNS boolean
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT (p_old IS NULL AND p_new IS NULL) OR (
    p_old IS NOT NULL AND p_new IS NOT NULL AND length(p_old) = length(p_new)
    AND NOT EXISTS (
      SELECT 1 FROM generate_series(1, length(p_new)) AS i
      WHERE substr(p_new, i, 1) <> substr(p_old, i, 1) AND substr(p_new, i, 1) <> '*')) $$;
CREATE OR REPLACE FUNCTION {s}.gc_mask_audit(p_id bigint, p_before text, p_after text)
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, {s}, pg_temp AS $$
DECLARE
  r record;
BEGIN
  -- Redaction is the one edit of old audit rows: a lead may replace characters by '*', nothing else.
  IF NOT {s}.gc_is_lead() THEN
    RAISE EXCEPTION 'only a lead redacts' USING ERRCODE = '42501';
  END IF;
  SELECT before, after INTO r FROM {s}.audit_log WHERE id = p_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such audit row' USING ERRCODE = '22023';
  END IF;
  IF NOT ({s}.gc_is_mask(r.before, p_before) AND {s}.gc_is_mask(r.after, p_after)) THEN
    RAISE EXCEPTION 'an audit row may only be masked' USING ERRCODE = '22023';
  END IF;
  UPDATE {s}.audit_log SET before = p_before, after = p_after WHERE id = p_id;
END $$;
REVOKE ALL ON FUNCTION {s}.gc_mask_audit(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {s}.gc_mask_audit(bigint, text, text) TO {lead};
REVOKE ALL ON FUNCTION {s}.gc_add_login(text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION {s}.gc_drop_login(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {s}.gc_add_login(text, text, boolean) TO {lead};
GRANT EXECUTE ON FUNCTION {s}.gc_drop_login(text) TO {lead};
"""

# (table, policy, command, USING, WITH CHECK); None: not given for that command.
ME = "(SELECT gc_me())"
NAME = "(SELECT gc_my_name())"
LEAD = "(SELECT gc_is_lead())"
BLIND = "(SELECT gc_blind())"
CONS = "(SELECT gc_consensus())"
Policy = tuple[str, str, str, str | None, str | None]


class Owns(StrEnum):
    """Who writes the rows of a table of per-coder work (everyone reads unless blind)."""

    SELF_OR_LEAD = "self_or_lead"  # one's own rows; a lead also any, and the consensus set's
    SELF = "self"  # one's own rows only
    LEAD = "lead"  # only a lead (rows about a coder, written for them)


# Tables of per-coder work: (table, the column naming the owner, "me" in that column,
# the consensus set in that column, who writes, whether rows may be deleted).
_OWNED: list[tuple[str, str, str, str | None, Owns, bool]] = [
    ("coding", "coder_id", ME, CONS, Owns.SELF_OR_LEAD, True),
    ("memo", "author", NAME, "'consensus'", Owns.SELF_OR_LEAD, True),
    ("done_mark", "coder_id", ME, None, Owns.SELF, True),
    ("assignment", "coder_id", ME, None, Owns.LEAD, True),
    ("audit_log", "actor", NAME, "'consensus'", Owns.SELF_OR_LEAD, False),  # never deleted
]


def _owned_policies(
    table: str, column: str, me: str, consensus: str | None, owns: Owns, deletable: bool
) -> list[Policy]:
    """The four policies of a per-coder table: blind mode on reads, ``owns`` on writes."""
    mine = f"{column} = {me}"
    if owns is Owns.SELF_OR_LEAD:
        add, change = f"{mine} OR ({LEAD} AND {column} = {consensus})", f"{mine} OR {LEAD}"
    elif owns is Owns.SELF:
        add = change = mine
    else:
        add = change = LEAD
    rows: list[Policy] = [
        (table, "gc_read", "SELECT", f"{LEAD} OR NOT {BLIND} OR {mine}", None),
        (table, "gc_add", "INSERT", None, add),
        (table, "gc_change", "UPDATE", change, change),
    ]
    if deletable:
        rows.append((table, "gc_remove", "DELETE", change, None))
    return rows


_SETTINGS_ANYONE = f"{LEAD} OR key IN ('search_indexed_upto')"
_POLICIES: list[Policy] = [
    *(policy for owned in _OWNED for policy in _owned_policies(*owned)),
    # The codebook: anyone adds a concept of their own (open coding); a lead edits.
    ("concept", "gc_read", "SELECT", "true", None),
    ("concept", "gc_add", "INSERT", None, f"{LEAD} OR created_by = {NAME}"),
    ("concept", "gc_change", "UPDATE", LEAD, LEAD),
    ("concept", "gc_remove", "DELETE", LEAD, None),
    # Settings: a lead's, but for the search index's progress, which any reader advances.
    ("setting", "gc_read", "SELECT", "true", None),
    ("setting", "gc_add", "INSERT", None, _SETTINGS_ANYONE),
    ("setting", "gc_change", "UPDATE", _SETTINGS_ANYONE, _SETTINGS_ANYONE),
    ("setting", "gc_remove", "DELETE", LEAD, None),
]
RLS_TABLES = sorted({t for t, *_ in _POLICIES})
# Tables every member reads whole (the corpus, the codebook, the people, caches);
# only leads write them. A new table must be put here or given policies above
# (tests/store/test_team_tables.py fails until it is): a table of per-coder work
# read by every coder would undo blind mode.
SHARED_TABLES = [
    "category",
    "coder",
    "document",
    "import_batch",
    "main_category",
    "model_edge",
    "passage",
    "relation_class",
    "screening_decision",
    "source_type",
    "token_cache",
]


@dataclass(frozen=True)
class TeamSetup:
    database: str
    lead_group: str
    coder_group: str
    created_groups: list[str]
    unmapped: list[str]  # people without a login yet


def init_team(db: Database) -> TeamSetup:
    """Create (or bring up to date) the groups, grants and policies: idempotent."""
    from psycopg import sql

    if db.is_sqlite:
        raise TeamNeedsPostgres(db.display_url)

    def _do(s: Session) -> TeamSetup:
        raw = _raw(s)
        database, login, schema, owner = s.execute(
            text(
                "SELECT current_database(), session_user, current_schema(), "
                "pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            )
        ).one()
        me = whoami(s)
        if not me.admin:
            raise NotOwner(login, database)
        # Two owners running init at once: the second waits here, then finds everything made.
        s.execute(text("SELECT pg_advisory_xact_lock(hashtext('groundcode team init'))"))
        lead, coder = group_roles(database)
        made: list[str] = []
        for group in (lead, coder):
            exists = s.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": group}
            ).first()
            if not exists:
                raw.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
                made.append(group)
        q = {
            "s": sql.Identifier(schema),
            "lead": sql.Identifier(lead),
            "coder": sql.Identifier(coder),
            "db": sql.Identifier(database),
            "owner": sql.Identifier(owner),
            "lead_lit": sql.Literal(lead),
            "coder_lit": sql.Literal(coder),
            "owner_lit": sql.Literal(owner),
        }

        def run(template: str) -> None:
            raw.execute(sql.SQL(template).format(**q))  # type: ignore[arg-type]

        run("REVOKE ALL ON DATABASE {db} FROM PUBLIC")
        run("GRANT CONNECT ON DATABASE {db} TO {lead}, {coder}")
        run("REVOKE CREATE ON SCHEMA {s} FROM PUBLIC")
        run("GRANT USAGE ON SCHEMA {s} TO {lead}, {coder}")
        run(_FUNCTIONS)
        run("REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {lead}, {coder}")
        run("GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {lead}, {coder}")
        run("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {lead}, {coder}")
        for table in _lead_tables():
            run(f"GRANT INSERT, UPDATE, DELETE ON {{s}}.{table} TO {{lead}}")
        for table, cols in (("coding", _CODING_COLS), ("memo", _MEMO_COLS)):
            run(f"GRANT INSERT, DELETE, UPDATE ({cols}) ON {{s}}.{table} TO {{lead}}, {{coder}}")
        run("GRANT INSERT, UPDATE (undone) ON {s}.audit_log TO {lead}, {coder}")
        run("GRANT INSERT, UPDATE, DELETE ON {s}.done_mark, {s}.token_cache TO {coder}")
        run("GRANT INSERT ON {s}.concept TO {coder}")
        run("GRANT INSERT, UPDATE ON {s}.setting TO {coder}")
        for table in RLS_TABLES:
            run(f"ALTER TABLE {{s}}.{table} ENABLE ROW LEVEL SECURITY")
        for table, name, command, using, check in _POLICIES:
            run(f"DROP POLICY IF EXISTS {name} ON {{s}}.{table}")
            stmt = f"CREATE POLICY {name} ON {{s}}.{table} FOR {command}"
            if using is not None:
                stmt += f" USING ({using})"
            if check is not None:
                stmt += f" WITH CHECK ({check})"
            run(stmt)
        s.execute(
            text(
                "INSERT INTO setting (key, value) VALUES (:k, 'on') "
                "ON CONFLICT (key) DO UPDATE SET value = 'on'"
            ),
            {"k": TEAM_SETTING},
        )
        unmapped = list(
            s.execute(
                text(
                    "SELECT name FROM coder WHERE login IS NULL AND role <> 'consensus' ORDER BY id"
                )
            ).scalars()
        )
        return TeamSetup(database, lead, coder, made, unmapped)

    return db.run(_do)


# -- people's logins ------------------------------------------------------------
def add_login(session: Session, login: str, password: str | None, *, lead: bool) -> bool:
    """Create ``login`` (if new) and put it in the lead or coder group; True if created.

    Runs in the caller's transaction (PostgreSQL's role changes are
    transactional), so a refused coder row leaves no role behind. The
    password is turned into a SCRAM verifier here, on the client.
    """
    check_login_name(login)
    raw = _raw(session)
    exists = session.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": login}
    ).first()
    verifier: str | None = None
    if not exists:
        if not password:
            raise NeedsPassword(login)
        verifier = raw.pgconn.encrypt_password(
            password.encode(), login.encode(), b"scram-sha-256"
        ).decode()
    try:
        with session.begin_nested():
            made = session.execute(
                text("SELECT gc_add_login(:l, :v, :lead)"),
                {"l": login, "v": verifier, "lead": lead},
            ).scalar()
    except Exception as exc:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) == "42501":
            raise LoginRefused(login) from None
        raise
    return bool(made)


def drop_login(session: Session, login: str) -> None:
    """Take ``login`` out of this project's groups: it can no longer connect here."""
    session.execute(text("SELECT gc_drop_login(:l)"), {"l": login})


def change_password(session: Session, password: str) -> None:
    """The signed-in person sets a new password for their own login."""
    from psycopg import sql

    raw = _raw(session)
    login = str(session.execute(text("SELECT session_user")).scalar())
    verifier = raw.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256")
    raw.execute(
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(login), sql.Literal(verifier.decode())
        )
    )
