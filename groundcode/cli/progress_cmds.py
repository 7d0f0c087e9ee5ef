"""Assignments, done marks and queues: who codes what, and what they have finished."""

from __future__ import annotations

from typing import Annotated

import typer

from groundcode.cli.common import JsonOpt, cell, emit_json, guarded, print_table, split_csv, state


def register(app: typer.Typer) -> None:
    app.command("assign")(assign)
    app.command("done")(done)
    app.command("queue")(queue)


@guarded
def assign(
    ctx: typer.Context,
    documents: Annotated[
        list[str] | None, typer.Argument(help="Document numbers (instead of --split/--sample).")
    ] = None,
    coders: Annotated[
        str, typer.Option(help="Coders to give the documents to, e.g. lin,zhou.")
    ] = "",
    split: Annotated[
        str | None, typer.Option(help="Every included document of build, holdout or all.")
    ] = None,
    sample: Annotated[
        float | None,
        typer.Option(help="A fraction of the included documents, drawn per source type."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for --sample (default: the project's).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Give the same documents to every coder named (a lead's job): their queues."""
    result = (
        state(ctx)
        .open()
        .progress.assign(
            split_csv(coders), split=split, sample=sample, seed=seed, documents=documents or None
        )
    )
    if json_:
        emit_json(result.to_json())
        return
    typer.echo(
        f"{result.documents} documents assigned to {', '.join(result.coders)}: "
        f"{result.added} new assignments"
        + (f", {result.already} already there" if result.already else "")
    )


@guarded
def done(
    ctx: typer.Context,
    documents: Annotated[list[str], typer.Argument(help="Document numbers, e.g. 4-17 4-18.")],
    undo: Annotated[bool, typer.Option("--undo", help="Take the done marks back.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Mark documents done for the acting coder: read, and coded all you will."""
    result = state(ctx).open().progress.done(documents, undo=undo)
    if json_:
        emit_json(result.to_json())
        return
    verb = "no longer done" if undo else "done"
    typer.echo(
        f"{result.coder}: {len(result.changed)} document(s) {verb}"
        + (f"; {len(result.unchanged)} already so" if result.unchanged else "")
    )


@guarded
def queue(
    ctx: typer.Context,
    coder: Annotated[
        str | None, typer.Option(help="Whose queue (default: the acting coder).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """What is left to code: assigned, not done, included (holdout after the holdout start)."""
    p = state(ctx).open()
    frame = p.progress.queue(coder)
    who = coder or p.user
    if json_:
        emit_json(
            {
                "coder": who,
                "documents": [
                    {
                        "number": r.number,
                        "type": r.type,
                        "title": None if r.title is None else str(r.title),
                        "split": r.split,
                        "passages": int(r.passages),
                    }
                    for r in frame.itertuples()
                ],
            }
        )
        return
    typer.echo(f"{who}: {len(frame)} document(s) left")
    if len(frame):
        print_table(
            ["document", "type", "split", "passages", "title"],
            [
                (r.number, r.type, cell(r.split), r.passages, cell(r.title)[:40])
                for r in frame.head(50).itertuples()
            ],
        )
        if len(frame) > 50:
            typer.echo(f"... and {len(frame) - 50} more (--json lists all)")
