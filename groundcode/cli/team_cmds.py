"""Team mode on PostgreSQL: ``team init``, people's logins and passwords, ``serve``.

The words of these commands' errors are in ``locale/*/LC_MESSAGES/team.po``.
Passwords are read from a prompt that does not echo (or, for scripts, from
``GROUNDCODE_NEW_PASSWORD``); they are never printed, logged or stored.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from groundcode.cli.common import fail, guarded, state

team_app = typer.Typer(
    help="Team mode on PostgreSQL: database logins, roles and row-level security.",
    no_args_is_help=True,
)

PASSWORD_ENV = "GROUNDCODE_NEW_PASSWORD"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(app: typer.Typer) -> None:
    app.add_typer(team_app, name="team")
    app.command("serve")(serve)


def new_password(login: str) -> str | None:
    """A new password: from the environment for scripts, else asked twice without echo."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        return None
    return str(
        typer.prompt(
            f"new password for {login}", hide_input=True, confirmation_prompt=True, err=True
        )
    )


@team_app.command("init")
@guarded
def team_init(ctx: typer.Context) -> None:
    """Set up team mode (run once by the database owner; running it again is harmless)."""
    from groundcode.store.identity import init_team

    p = state(ctx).open()
    setup = init_team(p.db)
    made = ", ".join(setup.created_groups) or "none (already there)"
    typer.echo(f"team mode on for database {setup.database}")
    typer.echo(f"groups: {setup.lead_group} (leads), {setup.coder_group} (coders); new: {made}")
    typer.echo(
        "row-level security: coding, memo, done_mark, assignment, audit_log, concept, setting"
    )
    for name in setup.unmapped:
        typer.echo(f"{name} has no database login yet: groundcode coder login {name}")


@team_app.command("password")
@guarded
def team_password(ctx: typer.Context) -> None:
    """Change your own database password (asked twice, never shown)."""
    from groundcode.store.identity import change_password

    p = state(ctx).open()
    with p.db.read() as s:
        from sqlalchemy import text

        login = str(s.execute(text("SELECT session_user")).scalar())
    password = new_password(login)
    if not password:
        fail(f"no new password for {login} (set {PASSWORD_ENV} for scripts)")
        return
    p.db.run(lambda s: change_password(s, password))
    typer.echo(f"password changed for {login}")


def session_command(db: str, user: str | None, lang: str | None) -> tuple[str, bool]:
    """The command textual-serve runs per browser session, and whether it signs in.

    SQLite: the TUI on the file, as ``user``. PostgreSQL: the TUI at its
    sign-in screen, on the project's URL with no login and no password in it,
    so each session connects as the person who signs in (and the command line,
    visible to every local user in ``ps``, carries no secret).
    """
    import shlex

    from groundcode.store.engine import is_sqlite, to_url

    url = to_url(db)
    base = f"{shlex.quote(sys.executable)} -m groundcode.cli"
    extra = f" --lang {shlex.quote(lang)}" if lang else ""
    if is_sqlite(url):
        who = f" --as {shlex.quote(user)}" if user else ""
        return f"{base} --db {shlex.quote(str(url.database))}{who} tui{extra}", False
    anonymous = url._replace(username=None, password=None).render_as_string(hide_password=False)
    return f"{base} --db {shlex.quote(anonymous)} tui --sign-in{extra}", True


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    lang: Annotated[str | None, typer.Option(help="Interface language: zh or en.")] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The address browsers use, behind a TLS reverse proxy (https://gc.example.org).",
        ),
    ] = None,
) -> None:
    """Serve the TUI in a web browser (textual-serve); put it behind your own TLS proxy.

    On PostgreSQL every browser session starts at a sign-in screen and acts
    as the database login signed in with. An SQLite project is one person's
    file and is served on this machine only.
    """
    st = state(ctx)
    command, signs_in = session_command(st.db, st.user, lang)
    if not signs_in and host not in LOOPBACK:
        fail(
            f"{st.db}: an SQLite project is served on this machine only "
            f"({', '.join(LOOPBACK)}), not on {host}; use PostgreSQL for a team"
        )
        return
    if signs_in:
        # Nothing of the server's own identity may reach the sessions: with no
        # PGPASSWORD or password file, a session has only what was typed.
        for key in ("PGUSER", "PGPASSWORD", "PGSERVICE", "GROUNDCODE_USER", PASSWORD_ENV):
            os.environ.pop(key, None)
        os.environ["PGPASSFILE"] = os.devnull
    from textual_serve.server import Server

    typer.echo(f"serving on http://{host}:{port} (stop with Ctrl+C)")
    Server(command, host=host, port=port, title="groundcode", public_url=public_url).serve()
