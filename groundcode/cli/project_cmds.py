"""Project-level commands: init, coders, blind mode, memos, backup, the TUI and the demo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from groundcode.cli.common import JsonOpt, cli_text, emit_json, fail, guarded, print_table, state

coder_app = typer.Typer(help="People: coders and leads.", no_args_is_help=True)
memo_app = typer.Typer(
    help="Memos on the project, a document, a code or a coding.", no_args_is_help=True
)
blind_app = typer.Typer(
    help="Blind coding: each coder sees only their own work.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("tui")(tui)
    app.command("demo")(demo)
    app.command("status")(status)
    app.add_typer(coder_app, name="coder")
    app.add_typer(memo_app, name="memo")
    app.add_typer(blind_app, name="blind")


@guarded
def init(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="A name for the project.")] = None,
) -> None:
    """Create the project (or upgrade an older one in place)."""
    from groundcode.project import Project

    st = state(ctx)
    with Project.create(st.db, name=name, user=st.user) as p:
        typer.echo(f"project ready: {p.location}")
        if p.db.is_sqlite:
            # The file is the trust boundary: say so, and where a team goes instead.
            typer.echo(
                "single-user project: this file is readable by you only, and --as only says "
                "whose work a command is; for a team coding at once, use PostgreSQL "
                "and groundcode team init"
            )


@guarded
def status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Where the project is, who is in it and whether blind mode is on."""
    p = state(ctx).open()
    info = p.people.status()
    if json_:
        emit_json(info)
        return
    typer.echo(f"project: {info['name']} ({p.location})")
    typer.echo(f"schema: {info['schema']}  blind mode: {'on' if info['blind'] else 'off'}")
    if p.db.is_sqlite:
        typer.echo("single-user project (SQLite: the file is the trust boundary)")
    else:
        from groundcode.store.identity import whoami

        with p.db.read() as s:
            me = whoami(s)
        if me.team:
            who = me.coder or ("the database owner" if me.admin else "nobody of this project")
            typer.echo(f"team mode: on; signed in as {me.login} ({who})")
        else:
            typer.echo("team mode: off (the database owner turns it on with groundcode team init)")
    print_table(["coder", "role"], [(c["name"], c["role"]) for c in info["coders"]])


@coder_app.command("add")
@guarded
def coder_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The coder's name (as used with --as).")],
    role: Annotated[str, typer.Option(help="coder or lead.")] = "coder",
    login: Annotated[
        str | None,
        typer.Option(help="PostgreSQL team mode: their database login [default: the name]."),
    ] = None,
) -> None:
    """Add a coder (or a lead, with --role lead).

    On PostgreSQL in team mode this also creates their database login; its
    password is asked without echo (or read from GROUNDCODE_NEW_PASSWORD).
    """
    from groundcode.cli.team_cmds import PASSWORD_ENV, new_password
    from groundcode.store.identity import NeedsPassword

    p = state(ctx).open()
    try:
        c = p.people.add_coder(name, role=role, login=login, password=os.environ.get(PASSWORD_ENV))
    except NeedsPassword as exc:
        password = new_password(exc.login)
        if not password:
            raise
        c = p.people.add_coder(name, role=role, login=login, password=password)
    typer.echo(f"added {c.role} {c.name}")


@coder_app.command("login")
@guarded
def coder_login(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A coder added before team mode was set up.")],
    login: Annotated[
        str | None, typer.Option(help="Their database login [default: the name].")
    ] = None,
) -> None:
    """PostgreSQL team mode: give an existing coder a database login."""
    from groundcode.cli.team_cmds import PASSWORD_ENV, new_password
    from groundcode.store.identity import NeedsPassword

    p = state(ctx).open()
    try:
        made = p.people.give_login(name, login=login, password=os.environ.get(PASSWORD_ENV))
    except NeedsPassword as exc:
        password = new_password(exc.login)
        if not password:
            raise
        made = p.people.give_login(name, login=login, password=password)
    typer.echo(f"{name} signs in as {made}")


@coder_app.command("remove")
@guarded
def coder_remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The coder to take out of the project.")],
) -> None:
    """Take a person out (a lead only); in team mode their login loses access."""
    gone = state(ctx).open().people.remove_coder(name)
    typer.echo(f"removed {name}" if gone else f"removed {name} (their work stays, attributed)")


@coder_app.command("list")
@guarded
def coder_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the people of the project."""
    coders = state(ctx).open().people.coders()
    if json_:
        emit_json([{"name": c.name, "role": c.role} for c in coders])
    else:
        print_table(["name", "role"], [(c.name, c.role) for c in coders])


@blind_app.command("on")
@guarded
def blind_on(ctx: typer.Context) -> None:
    """Turn blind mode on."""
    state(ctx).open().people.set_blind_mode(True)
    typer.echo("blind mode on")


@blind_app.command("off")
@guarded
def blind_off(ctx: typer.Context) -> None:
    """End blind mode (a lead only, once two coders exist)."""
    state(ctx).open().people.set_blind_mode(False)
    typer.echo("blind mode off")


@memo_app.command("add")
@guarded
def memo_add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The memo text.")],
    on: Annotated[
        str,
        typer.Option(
            help="project, document, concept, category, main_category, relation_class or coding."
        ),
    ] = "project",
    target: Annotated[
        str | None, typer.Option(help="Document number, code name or coding id.")
    ] = None,
) -> None:
    """Write a memo."""
    m = state(ctx).open().memos.add_memo(on, target, text)
    typer.echo(f"memo {m.id} saved")


@memo_app.command("list")
@guarded
def memo_list(
    ctx: typer.Context,
    on: Annotated[str | None, typer.Option(help="Only memos on this kind of target.")] = None,
    search: Annotated[str | None, typer.Option(help="Only memos containing this text.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List memos you may read (blind mode applies)."""
    frame = state(ctx).open().memos.memos(kind=on, search=search)
    if json_:
        emit_json(frame.to_dict(orient="records"))
    else:
        print_table(
            ["id", "on", "target", "author", "text"],
            frame[["id", "kind", "target", "author", "text"]].itertuples(index=False),
        )


@guarded
def backup(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="The backup file to write.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Copy the whole project to one file (safe while others work)."""
    st = state(ctx)
    written = st.open().backup.backup(output, force=force)
    typer.echo(cli_text(written.key, st.user, path=written.path))


@guarded
def restore(
    ctx: typer.Context,
    backup_file: Annotated[Path, typer.Argument(help="A file written by groundcode backup.")],
) -> None:
    """Restore a PostgreSQL backup written by `groundcode backup` into an empty project."""
    from groundcode.project import Project

    st = state(ctx)
    with Project.create(st.db, user=st.user) as p:
        done = p.backup.restore(backup_file)
    typer.echo(cli_text(done.key, st.user, path=done.path, rows=done.rows))


def tui(
    ctx: typer.Context,
    coder: Annotated[str | None, typer.Option(help="Code as this coder (the global --as).")] = None,
    lang: Annotated[str | None, typer.Option(help="Interface language: zh or en.")] = None,
    sign_in: Annotated[
        bool,
        typer.Option("--sign-in", help="PostgreSQL: start at a sign-in screen (what serve runs)."),
    ] = False,
) -> None:
    """Open the project in the terminal user interface."""
    from groundcode.domain.errors import GroundcodeError

    st = state(ctx)
    try:
        from groundcode.tui.app import make_app

        app = make_app(st.db, coder or st.user, lang=lang, sign_in=sign_in)
    except GroundcodeError as exc:
        fail(str(exc), exc.exit_code)
        return
    app.run()


@guarded
def demo(
    ctx: typer.Context,
    no_tui: Annotated[bool, typer.Option("--no-tui", help="Only build the demo project.")] = False,
    path: Annotated[Path, typer.Option(help="Where to build the demo project.")] = Path("demo.db"),
) -> None:
    """Build a demo project from corpora/ and codebooks/ and open it as its lead."""
    from groundcode.demo import build_demo

    def _say(msg: str) -> None:
        typer.echo(msg)

    summary = build_demo(path, echo=_say)
    typer.echo(f"demo project: {path.resolve()} (lead: {summary.lead})")
    if no_tui:
        return
    from groundcode.tui.app import make_app

    make_app(str(path), summary.lead).run()
