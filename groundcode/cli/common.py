"""What every command shares: the global options, opening the project, output, errors."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer

from groundcode.domain.errors import Forbidden, GroundcodeError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = "groundcode.db"

#: The ``--json`` switch every listing and report command takes.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@dataclass
class State:
    db: str
    user: str | None
    project: Any = None

    def open(self) -> Any:
        """The project named by --db, acting as --as (opened once per command)."""
        from groundcode.project import Project

        if self.project is None:
            self.project = Project.open(self.db, user=self.user)
            self.project.db.on_wait = _say_waiting
        return self.project

    def close(self) -> None:
        if self.project is not None:
            self.project.close()
            self.project = None


def _say_waiting(holder: str) -> None:
    """A write that has to wait says once who it is waiting for (then keeps waiting)."""
    who = holder or "another program"
    typer.echo(f"groundcode: waiting for the project's write lock, held by {who}", err=True)


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State(
            db=os.environ.get("GROUNDCODE_DB", DEFAULT_DB),
            user=os.environ.get("GROUNDCODE_USER") or None,
        )
    return root.obj


class _CliOptions(dict[str, str]):
    """The CLI's spelling of a neutral option name: ``force`` -> ``--force``."""

    def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
        return "--" + key.replace("_", "-")


CLI_OPTIONS: dict[str, str] = _CliOptions()


def cli_words(error: GroundcodeError, user: str | None = None) -> str:
    """A typed error in the CLI's language (``domain.language.cli_language``), flags spelled."""
    from groundcode.domain.language import cli_language
    from groundcode.domain.wording import word

    return word(error, cli_language(user), option_names=CLI_OPTIONS)


def cli_text(key: str, user: str | None = None, /, **fields: object) -> str:
    """A catalog message in the CLI's language, options spelled as flags."""
    from groundcode.domain.language import cli_language
    from groundcode.domain.wording import text

    return text(key, cli_language(user), **fields, opt=_CliNames())


class _CliNames(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return CLI_OPTIONS.get(key, key)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"groundcode: {one_line(message)}", err=True)
    raise typer.Exit(code)


def guarded(fn: F) -> F:
    """Turn expected errors into one line on stderr and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        ctx = next((a for a in args if isinstance(a, typer.Context)), kwargs.get("ctx"))
        try:
            return fn(*args, **kwargs)
        except Forbidden as exc:
            # The core names no flags; here the refusal says how to say who you are.
            who = exc.actor or "nobody named"
            fail(f"{dataclasses.replace(exc, actor=who)} (act as someone with --as NAME)")
        except GroundcodeError as exc:
            st = state(ctx) if isinstance(ctx, typer.Context) else None
            fail(cli_words(exc, st.user if st else None), exc.exit_code)
        except SQLAlchemyError as exc:
            from groundcode.store.engine import redact_url

            msg = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__
            st = state(ctx) if isinstance(ctx, typer.Context) else None
            where = redact_url(st.db) if st and "://" in st.db else (st.db if st else "database")
            fail(f"{where}: database error: {msg}")
        except (FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}")
        except typer.Exit:
            raise
        except Exception as exc:
            # Anything unexpected: one line for the user, the traceback only on request.
            if os.environ.get("GROUNDCODE_DEBUG"):
                raise
            fail(
                f"internal error: {type(exc).__name__}: {exc} (set GROUNDCODE_DEBUG=1 for details)",
                3,
            )
        finally:
            if isinstance(ctx, typer.Context):
                state(ctx).close()
        return None

    return wrapper  # type: ignore[return-value]


def emit_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str, allow_nan=False))


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    """A plain table; rich measures CJK characters as two cells, so columns line up."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from groundcode.domain.safe_text import visible

    # Cells are Text, never markup: a title "[/]标题" or a concept "[b]x" prints as written,
    # and control characters show as escapes.
    table = Table(
        title=Text(visible(title)) if title else None,
        show_edge=False,
        header_style="bold",
        pad_edge=False,
    )
    for c in columns:
        table.add_column(Text(visible(str(c))), overflow="fold")
    for r in rows:
        table.add_row(*[Text("" if v is None else visible(str(v))) for v in r])
    raw = getattr(sys.stdout, "raw", sys.stdout)  # Rich writes its own styling codes
    Console(file=raw, width=None if raw.isatty() else 160, soft_wrap=False).print(table)


def progress_printer(label: str, enabled: bool) -> Callable[[int, int], None] | None:
    """A one-line progress indicator on a terminal; nothing in CI, pipes or --json."""
    if not enabled or os.environ.get("CI") or not sys.stderr.isatty():
        return None

    def _show(done: int, total: int) -> None:
        pct = 100 * done // max(1, total)
        sys.stderr.write(f"\r{label}: {done}/{total} ({pct}%)")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return _show


def split_csv(value: str | None) -> list[str]:
    if not value:
        return []
    return [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]


def cell(value: Any) -> str:
    """A table cell: missing values (None, NaN, pandas NA) print as empty."""
    if value is None:
        return ""
    try:
        import math

        if isinstance(value, float) and math.isnan(value):
            return ""
    except TypeError:
        pass
    text = str(value)
    return "" if text in ("nan", "<NA>", "None") else text
