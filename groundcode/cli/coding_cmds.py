"""Coding and codebook commands: apply codes, codings files, the category system, the model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from groundcode.cli.common import (
    JsonOpt,
    emit_json,
    guarded,
    print_table,
    progress_printer,
    split_csv,
    state,
)
from groundcode.domain.errors import FileRefused, Refused

LevelOpt = Annotated[str, typer.Option(help="concept, category, main_category or relation_class.")]

codebook_app = typer.Typer(help="The category system: import, export, edit.", no_args_is_help=True)
codings_app = typer.Typer(help="Codings files (CSV).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(codebook_app, name="codebook")
    app.add_typer(codings_app, name="codings")
    app.command("code")(code)
    app.command("uncode")(uncode)
    app.command("undo")(undo)
    app.command("redo")(redo)


# -- codebook --------------------------------------------------------------
@codebook_app.command("import")
@guarded
def codebook_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A codebook: .yaml, .xlsx or .qdc.")],
    json_: JsonOpt = False,
) -> None:
    """Import a codebook; merges by name and never deletes coded concepts."""
    p = state(ctx).open()
    suffix = file.suffix.lower()
    if suffix in (".yaml", ".yml"):
        summary = p.codebook.import_yaml(file)
    elif suffix == ".qdc":
        summary = p.interchange.import_qdc(file)
    elif suffix == ".xlsx":
        summary = p.interchange.import_codebook_xlsx(file)
    else:
        raise FileRefused(str(file), 0, "codebook_suffix")
    if json_:
        emit_json(summary.to_json() if hasattr(summary, "to_json") else summary.__dict__)
    else:
        typer.echo(f"{file}: {summary}")


@codebook_app.command("export")
@guarded
def codebook_export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Target: .yaml, .xlsx or .qdc.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Export the codebook (YAML round-trips losslessly)."""
    p = state(ctx).open()
    out = p.exports.codebook(file, force=force)
    typer.echo(f"wrote {out}")


@codebook_app.command("show")
@guarded
def codebook_show(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The category tree with coding counts (blind mode: your own counts)."""
    p = state(ctx).open()
    frame = p.codebook.concepts_frame(coder_ids=p.people.visible_coder_ids())
    if json_:
        emit_json(frame.to_dict(orient="records"))
        return
    print_table(
        ["relation class", "main category", "no.", "category", "concept", "codings"],
        frame[
            [
                "relation_class",
                "main_category",
                "category_number",
                "category",
                "concept",
                "n_codings",
            ]
        ].itertuples(index=False),
    )


@codebook_app.command("create")
@guarded
def codebook_create(
    ctx: typer.Context,
    level: Annotated[
        str, typer.Argument(help="concept, category, main_category or relation_class.")
    ],
    name: Annotated[str, typer.Argument()],
    parent: Annotated[
        str | None, typer.Option(help="The parent (category / main category / relation class).")
    ] = None,
    number: Annotated[
        str | None, typer.Option(help="Number (categories and main categories).")
    ] = None,
    definition: Annotated[str | None, typer.Option(help="A short definition.")] = None,
) -> None:
    """Create a concept or a category at any level."""
    state(ctx).open().codebook.create(
        level, name, parent=parent, number=number, definition=definition
    )
    typer.echo(f"created {level} {name}")


@codebook_app.command("rename")
@guarded
def codebook_rename(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument()],
    old: Annotated[str, typer.Argument()],
    new: Annotated[str, typer.Argument()],
) -> None:
    """Rename a code at any level (model edges follow)."""
    state(ctx).open().codebook.rename(level, old, new)
    typer.echo(f"renamed {old} -> {new}")


@codebook_app.command("define")
@guarded
def codebook_define(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument()],
    definition: Annotated[str, typer.Argument()],
) -> None:
    """Set a code's definition."""
    state(ctx).open().codebook.define(level, name, definition)
    typer.echo(f"defined {name}")


@codebook_app.command("merge")
@guarded
def codebook_merge(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument()],
    sources: Annotated[list[str], typer.Argument(help="Codes to merge away.")],
    into: Annotated[str, typer.Option(help="The code that remains.")],
) -> None:
    """Merge codes into one; codings move to the survivor."""
    result = (
        state(ctx)
        .open()
        .codebook.merge(level, sources, into, progress=progress_printer("merge", True))
    )
    typer.echo(f"merged {', '.join(sources)} into {into}" + (f" ({result})" if result else ""))


@codebook_app.command("move")
@guarded
def codebook_move(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument()],
    to: Annotated[str | None, typer.Option(help="The new parent; leave out to detach.")] = None,
) -> None:
    """Move a concept to a category, a category to a main category, a main category to a relation class."""
    state(ctx).open().codebook.move(level, name, to)
    typer.echo(f"moved {name} -> {to or '(none)'}")


@codebook_app.command("renumber")
@guarded
def codebook_renumber(
    ctx: typer.Context, level: Annotated[str, typer.Argument()] = "category"
) -> None:
    """Renumber categories (or main categories) 1..n in their current order."""
    state(ctx).open().codebook.renumber(level)
    typer.echo(f"renumbered {level}")


@codebook_app.command("delete")
@guarded
def codebook_delete(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument()],
    force: Annotated[
        bool, typer.Option(help="Delete even if coded (codings become uncategorised).")
    ] = False,
) -> None:
    """Delete a code that nothing is coded with (or --force)."""
    state(ctx).open().codebook.delete(level, name, force=force)
    typer.echo(f"deleted {level} {name}")


@codebook_app.command("core")
@guarded
def codebook_core(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The core category.")],
    definition: Annotated[str | None, typer.Option(help="Its definition.")] = None,
) -> None:
    """Name the core category (selective coding)."""
    state(ctx).open().codebook.set_core(name, definition)
    typer.echo(f"core category: {name}")


@codebook_app.command("storyline")
@guarded
def codebook_storyline(
    ctx: typer.Context,
    text: Annotated[
        str | None, typer.Argument(help="The storyline; '-' reads it from stdin.")
    ] = None,
) -> None:
    """Set (or, without text, print) the storyline."""
    import sys

    p = state(ctx).open()
    if text is None:
        typer.echo(p.codebook.model().storyline or "")
        return
    p.codebook.set_storyline(sys.stdin.read() if text == "-" else text)
    typer.echo("storyline saved")


@codebook_app.command("edge")
@guarded
def codebook_edge(
    ctx: typer.Context,
    from_: Annotated[str, typer.Argument(metavar="FROM")],
    to: Annotated[str, typer.Argument()],
    label: Annotated[str | None, typer.Option(help="The edge's label.")] = None,
    remove: Annotated[bool, typer.Option(help="Remove the edges FROM -> TO instead.")] = False,
) -> None:
    """Add (or remove) a labelled model edge between categories."""
    cb = state(ctx).open().codebook
    if remove:
        gone = [e for e in cb.edges() if e.from_name == from_ and e.to_name == to]
        if not gone:
            raise Refused("no_edge", name=from_, detail=to)
        for e in gone:
            cb.remove_edge(e.id)
        typer.echo(f"removed {len(gone)} edge(s)")
        return
    cb.add_edge(from_, to, label)
    typer.echo(f"edge {from_} -> {to}" + (f" [{label}]" if label else ""))


# -- codings files -----------------------------------------------------------
@codings_app.command("import")
@guarded
def codings_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: document,start,end,code[,coder][,memo] or document,passage,code[,coder][,memo]."
        ),
    ],
    coder: Annotated[
        str | None, typer.Option(help="Whose codings, when the file has no coder column.")
    ] = None,
    done: Annotated[
        bool, typer.Option("--done", help="Also mark every document in the file done.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Import codings in one transaction; a bad row changes nothing."""
    result = state(ctx).open().coding.import_csv(file, coder=coder, done=done)
    if json_:
        emit_json(result.to_json())
        return
    typer.echo(
        f"{file}: {result.codings} codings imported for {', '.join(result.coders)}"
        + (f"; {result.skipped_existing} already present" if result.skipped_existing else "")
        + (f"; new concepts: {', '.join(result.new_concepts)}" if result.new_concepts else "")
        + (f"; {result.done} document(s) marked done" if done else "")
    )


@codings_app.command("export")
@guarded
def codings_export(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Target .csv (span form with coder, passage, text).")
    ],
    coders: Annotated[str | None, typer.Option(help="Only these coders (comma-separated).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    include_personal: Annotated[
        bool, typer.Option(help="Include documents marked as personal data.")
    ] = False,
) -> None:
    """Export codings you may read (blind mode applies)."""
    n = (
        state(ctx)
        .open()
        .exports.codings_csv(
            file, coders=split_csv(coders) or None, force=force, include_personal=include_personal
        )
    )
    typer.echo(f"wrote {n} codings to {file}")


# -- applying codes ---------------------------------------------------------
@guarded
def code(
    ctx: typer.Context,
    document: Annotated[str, typer.Argument(help="Document number, e.g. 2-5.")],
    concept: Annotated[str, typer.Argument(help="Concept name (a new name creates the concept).")],
    passage: Annotated[int | None, typer.Option(help="Passage number (from 1).")] = None,
    start: Annotated[int | None, typer.Option(help="Span start (code points).")] = None,
    end: Annotated[int | None, typer.Option(help="Span end (exclusive).")] = None,
    memo: Annotated[str | None, typer.Option(help="A memo on this coding.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Apply a concept to a passage or span, as the acting coder (--as)."""
    c = (
        state(ctx)
        .open()
        .coding.apply(document, concept, passage=passage, start=start, end=end, memo=memo)
    )
    if json_:
        emit_json(c.to_json())
    else:
        typer.echo(
            f"coding {c.id}: {c.concept} on {c.document} [{c.start}:{c.end}] {c.snippet[:40]}"
        )


@guarded
def uncode(
    ctx: typer.Context, coding_id: Annotated[int, typer.Argument(help="The coding's id.")]
) -> None:
    """Remove one of your codings."""
    state(ctx).open().coding.remove(coding_id)
    typer.echo(f"removed coding {coding_id}")


@guarded
def undo(ctx: typer.Context) -> None:
    """Undo your last coding change."""
    r = state(ctx).open().coding.undo()
    typer.echo(f"undone: {r.description}" if r else "nothing to undo")


@guarded
def redo(ctx: typer.Context) -> None:
    """Redo the change you last undid."""
    r = state(ctx).open().coding.redo()
    typer.echo(f"redone: {r.description}" if r else "nothing to redo")


__all__ = ["print_table", "register"]
