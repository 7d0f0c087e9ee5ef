"""Export commands: paper tables, segments, matrix, memos, agreement, saturation, codebook, REFI-QDA."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from groundcode.cli.common import guarded, split_csv, state

export_app = typer.Typer(
    help="Exports for papers and for other QDA tools (default folder: exports/).",
    no_args_is_help=True,
)

OutDir = Annotated[Path, typer.Option("-o", "--output", help="Folder to write into.")]
Force = Annotated[bool, typer.Option(help="Overwrite existing files.")]
Personal = Annotated[bool, typer.Option(help="Include documents marked as personal data.")]


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
    app.command("import-qdpx")(import_qdpx)


def _done(paths: list[Path]) -> None:
    for p in paths:
        typer.echo(f"wrote {p}")


@export_app.command("tables")
@guarded
def tables(
    ctx: typer.Context,
    format_: Annotated[str, typer.Option("--format", help="xlsx, csv, md, tex or docx.")] = "xlsx",
    lang: Annotated[str, typer.Option(help="Headers in zh or en.")] = "zh",
    output: OutDir = Path("exports"),
    refs: Annotated[int, typer.Option(help="Document numbers shown per concept in Table 1.")] = 1,
    refs_from: Annotated[
        str,
        typer.Option(help="Table 1's document numbers from build-set documents (default) or all."),
    ] = "build",
    coder: Annotated[
        str | None, typer.Option(help="Document refs from this coder (default: consensus).")
    ] = None,
    force: Force = False,
) -> None:
    """Table 1 (initial categories and concepts) and Table 2 (relation classes and main categories)."""
    _done(
        state(ctx)
        .open()
        .exports.tables(
            fmt=format_,
            lang=lang,
            out_dir=output,
            refs=refs,
            refs_from=refs_from,
            coder=coder,
            force=force,
        )
    )


@export_app.command("segments")
@guarded
def segments(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="File: .xlsx, .csv, .md or .json.")
    ] = Path("exports/segments.xlsx"),
    coders: Annotated[str | None, typer.Option(help="Only these coders.")] = None,
    include_personal: Personal = False,
    force: Force = False,
) -> None:
    """Coded segments, one row per coding, with the full category path."""
    _done(
        [
            state(ctx)
            .open()
            .exports.segments(
                output,
                coders=split_csv(coders) or None,
                include_personal=include_personal,
                force=force,
            )
        ]
    )


@export_app.command("matrix")
@guarded
def matrix(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="File: .xlsx or .csv.")] = Path(
        "exports/matrix.csv"
    ),
    level: Annotated[str, typer.Option(help="concept, category or main.")] = "concept",
    coder: Annotated[str | None, typer.Option(help="Whose codings (default: consensus).")] = None,
    include_personal: Personal = False,
    force: Force = False,
) -> None:
    """One row per passage, one 0/1 column per code, with document attributes (for SPSS/R)."""
    _done(
        [
            state(ctx)
            .open()
            .exports.matrix(
                output, level=level, coder=coder, include_personal=include_personal, force=force
            )
        ]
    )


@export_app.command("memos")
@guarded
def memos(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("exports/memos.xlsx"),
    include_personal: Personal = False,
    force: Force = False,
) -> None:
    """All memos you may read (those on personal documents only with --include-personal)."""
    _done([state(ctx).open().exports.memos(output, include_personal=include_personal, force=force)])


@export_app.command("agreement")
@guarded
def agreement(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("exports/agreement.xlsx"),
    coders: Annotated[str | None, typer.Option(help="Coders to compare.")] = None,
    level: Annotated[str, typer.Option(help="concept, category or main.")] = "concept",
    include_personal: Personal = False,
    force: Force = False,
) -> None:
    """The per-code agreement table and the disagreements (personal documents' passages
    only with --include-personal)."""
    _done(
        [
            state(ctx)
            .open()
            .exports.agreement(
                output,
                coders=split_csv(coders) or None,
                level=level,
                include_personal=include_personal,
                force=force,
            )
        ]
    )


@export_app.command("saturation")
@guarded
def saturation(
    ctx: typer.Context,
    output: OutDir = Path("exports"),
    coder: Annotated[str | None, typer.Option(help="One coder instead of the consensus.")] = None,
    force: Force = False,
) -> None:
    """The saturation report (Markdown and docx), the curve (PNG, SVG) and its data (csv, xlsx)."""
    _done(state(ctx).open().exports.saturation(output, coder=coder, force=force))


@export_app.command("codebook")
@guarded
def codebook(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="File: .yaml, .xlsx or .qdc.")
    ] = Path("exports/codebook.yaml"),
    force: Force = False,
) -> None:
    """The codebook as YAML (lossless), xlsx or REFI-QDA .qdc."""
    _done([state(ctx).open().exports.codebook(output, force=force)])


@export_app.command("model")
@guarded
def model_report(
    ctx: typer.Context,
    output: OutDir = Path("exports"),
    force: Force = False,
) -> None:
    """The model: core category, storyline and diagram (Markdown, docx, SVG, Mermaid)."""
    _done(state(ctx).open().exports.model_report(output, force=force))


@export_app.command("qdpx")
@guarded
def qdpx(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="The .qdpx file.")] = Path(
        "exports/project.qdpx"
    ),
    include_personal: Personal = False,
    force: Force = False,
) -> None:
    """The project for NVivo, ATLAS.ti, MAXQDA, QualCoder or Taguette (REFI-QDA)."""
    path, warnings = (
        state(ctx)
        .open()
        .interchange.export_qdpx(output, include_personal=include_personal, force=force)
    )
    from groundcode.domain.language import cli_language
    from groundcode.domain.notice import say

    lang = cli_language(state(ctx).user)
    for w in warnings:
        typer.echo(f"warning: {say(w, lang)}", err=True)
    _done([path])


@export_app.command("all")
@guarded
def all_(
    ctx: typer.Context,
    output: OutDir = Path("exports"),
    lang: Annotated[str, typer.Option(help="Headers in zh or en.")] = "zh",
    include_personal: Personal = False,
) -> None:
    """Everything above into a dated folder under exports/."""
    folder, paths = (
        state(ctx).open().exports.all(output, lang=lang, include_personal=include_personal)
    )
    typer.echo(f"{len(paths)} files in {folder}")


@guarded
def import_qdpx(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .qdpx project from another QDA tool.")],
    type_: Annotated[str, typer.Option("--type", help="Source type for its documents.")] = "1",
) -> None:
    """Create a groundcode project (--db) from a REFI-QDA project file, or add it to one.

    The file streams into one transaction (checked as it is read), so a refused
    import changes nothing and leaves no new project file behind.
    """
    from groundcode.project import Project
    from groundcode.store.engine import is_sqlite, to_url

    st = state(ctx)
    url = to_url(st.db)
    created: list[Path] = []
    if is_sqlite(url) and url.database and not Path(url.database).exists():
        base = Path(url.database)
        created = [base, Path(f"{base}-wal"), Path(f"{base}-shm"), Path(f"{base}-journal")]
    try:
        with Project.create(st.db, user=st.user) as p:
            result = p.interchange.import_qdpx(file, type=type_)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise
    from groundcode.domain.language import cli_language
    from groundcode.domain.notice import say

    lang = cli_language(st.user)
    for w in result.warnings:
        typer.echo(f"warning: {say(w, lang)}", err=True)
    for loss in result.losses:
        typer.echo(f"warning: {loss.word(lang)}", err=True)
    typer.echo(result.summary(lang))
