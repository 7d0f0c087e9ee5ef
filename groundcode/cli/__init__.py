"""groundcode's command line: every step of a grounded-theory study, scriptable.

The commands are thin: each parses its options, makes one service call on the
``Project`` and prints the result (``--json`` for scripts). Errors are one line
on stderr with exit code 2 (bad input) or 1 (an analysis problem you asked to
fail on, e.g. ``saturation --strict``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

try:  # typer vendors its own click from 0.2x on; older releases use the click package
    from typer._click import exceptions as click_exceptions  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from groundcode.cli import (
    analysis_cmds,
    coding_cmds,
    corpus_cmds,
    export_cmds,
    progress_cmds,
    project_cmds,
    team_cmds,
)
from groundcode.cli.common import State, one_line

HELP = """\
groundcode: a terminal workbench for grounded-theory research.

A typical study, step by step:

  groundcode init --name "健康码信息共享"         create the project (./groundcode.db)
  groundcode import policy/*.txt --type 1         load documents (also .md .docx .pdf .html)
  groundcode import comments.csv --type 4         one comment per row (.csv .xlsx .jsonl)
  groundcode screen --keywords 健康码,行程码 --min-chars 10
  groundcode dedup                                 drop reposts and near-duplicates
  groundcode sample --type 4 --n 600 --stratify-by views
  groundcode split                                 70/30 build set / holdout, by source type
  groundcode coder add lin ; groundcode coder add chen --role lead
  groundcode codebook import codebooks/health-code.yaml
  groundcode tui --coder lin                       code passages in the terminal
  groundcode --as chen agree                       Cohen's kappa, per code and pooled
  groundcode --as chen reconcile                   agreed codings -> consensus
  groundcode saturation                            the holdout test of saturation
  groundcode export tables --format docx           Table 1 and Table 2 for the paper

The project is an SQLite file (--db PATH, or GROUNDCODE_DB) or, for a team, a
PostgreSQL URL (postgresql+psycopg://user@host/db; the password comes from
PGPASSWORD or ~/.pgpass, never from a file of ours). --as NAME (or
GROUNDCODE_USER) says who is acting; in blind mode it is required to read codings.
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=False,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Project: an SQLite path or a database URL [env GROUNDCODE_DB; default ./groundcode.db].",
        ),
    ] = None,
    as_: Annotated[
        str | None,
        typer.Option("--as", help="The acting coder or lead [env GROUNDCODE_USER]."),
    ] = None,
) -> None:
    import os

    from groundcode.cli.common import DEFAULT_DB

    ctx.obj = State(
        db=db or os.environ.get("GROUNDCODE_DB") or DEFAULT_DB,
        user=as_ or os.environ.get("GROUNDCODE_USER") or None,
    )
    if ctx.invoked_subcommand is None:
        # A bare `groundcode` opens the TUI on the project, as `groundcode tui` does.
        project_cmds.tui(ctx, coder=None, lang=None, sign_in=False)


for module in (
    project_cmds,
    corpus_cmds,
    coding_cmds,
    progress_cmds,
    analysis_cmds,
    export_cmds,
    team_cmds,
):
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: text is data on the terminal (see ``domain.safe_text``)."""
    from groundcode.domain.safe_text import VisibleStream

    out, err = sys.stdout, sys.stderr
    sys.stdout = VisibleStream(out)  # type: ignore[assignment]
    sys.stderr = VisibleStream(err, keep="\r")  # type: ignore[assignment]
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None = None) -> int:
    """Click's usage errors are shortened to one line."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="groundcode", standalone_mode=False)
    except typer.Exit as exc:
        code = int(exc.exit_code or 0)
        if argv is None:
            sys.exit(code)
        return code
    except typer.Abort:
        sys.stderr.write("groundcode: aborted\n")
        code = 130
        if argv is None:
            sys.exit(code)
        return code
    except click_exceptions.ClickException as exc:
        ctx_cmd = getattr(getattr(exc, "ctx", None), "command_path", "groundcode")
        sys.stderr.write(f"{ctx_cmd}: {one_line(exc.format_message())} (see --help)\n")
        if argv is None:
            sys.exit(2)
        return 2
    # Without standalone mode click hands back typer.Exit's code as the return value.
    code = rv if isinstance(rv, int) else 0
    if argv is None:
        sys.exit(code)
    return code


__all__ = ["app", "main"]
