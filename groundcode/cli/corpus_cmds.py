"""Corpus commands: import, screening, dedup, sampling, split, the funnel, search, documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from groundcode.cli.common import (
    JsonOpt,
    cell,
    emit_json,
    guarded,
    print_table,
    progress_printer,
    split_csv,
    state,
)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("screen")(screen)
    app.command("exclude")(exclude)
    app.command("include")(include)
    app.command("dedup")(dedup)
    app.command("sample")(sample)
    app.command("split")(split)
    app.command("corpus")(corpus)
    app.command("search")(search)
    app.command("documents")(documents)
    app.command("show")(show)
    app.command("redact")(redact)
    app.command("personal")(personal)
    app.command("index")(index)


@guarded
def import_(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(help="Files: .txt .md .html .docx .pdf, or .csv .xlsx .jsonl (a row each)."),
    ],
    type_: Annotated[
        str, typer.Option("--type", help="Source type: number or name (4, selfmedia, 自媒体).")
    ],
    text_column: Annotated[str | None, typer.Option(help="Column holding the text.")] = None,
    title_column: Annotated[str | None, typer.Option(help="Column holding the title.")] = None,
    date_column: Annotated[str | None, typer.Option(help="Column holding the date.")] = None,
    views_column: Annotated[str | None, typer.Option(help="Column holding view counts.")] = None,
    url_column: Annotated[str | None, typer.Option(help="Column holding the URL.")] = None,
    author_column: Annotated[str | None, typer.Option(help="Column holding the author.")] = None,
    segment: Annotated[
        str | None,
        typer.Option(help="paragraph, sentence or whole (default: paragraph; a row is whole)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Import documents; each file is all-or-nothing, and a file imported before is skipped."""
    p = state(ctx).open()
    report = p.corpus.import_files(
        files,
        type=type_,
        text_column=text_column,
        title_column=title_column,
        date_column=date_column,
        views_column=views_column,
        url_column=url_column,
        author_column=author_column,
        segment=segment,
        progress=progress_printer("importing", not json_),
    )
    if json_:
        emit_json(report.to_json())
        return
    for f in report.files:
        if f.status == "imported":
            typer.echo(f"{f.file}: {f.documents} documents ({f.first} .. {f.last})")
        else:
            typer.echo(f"{f.file}: already imported, nothing added")


@guarded
def screen(
    ctx: typer.Context,
    keywords: Annotated[
        str | None, typer.Option(help="Comma-separated keywords a relevant document contains.")
    ] = None,
    any_: Annotated[
        bool, typer.Option("--any", help="Keep documents with any keyword (default).")
    ] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Keep only documents with all keywords.")
    ] = False,
    from_: Annotated[
        str | None, typer.Option("--from", help="Earliest date kept (YYYY-MM-DD).")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Latest date kept (YYYY-MM-DD).")] = None,
    min_chars: Annotated[
        int | None,
        typer.Option(help="Fewest substantive characters (no URLs, emoji, punctuation)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only count what would be excluded.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Screen the included documents: irrelevant, out of date range, no substance."""
    if any_ and all_:
        from groundcode.domain.errors import Refused

        raise Refused("any_or_all")
    report = (
        state(ctx)
        .open()
        .corpus.screen(
            keywords=split_csv(keywords),
            mode="all" if all_ else "any",
            date_from=from_,
            date_to=to,
            min_chars=min_chars,
            dry_run=dry_run,
        )
    )
    if json_:
        emit_json(report.to_json())
        return
    verb = "would exclude" if dry_run else "excluded"
    parts = ", ".join(f"{n} {k}" for k, n in report.excluded.items()) or "nothing"
    typer.echo(f"checked {report.checked} included documents; {verb}: {parts}")


@guarded
def exclude(
    ctx: typer.Context,
    numbers: Annotated[list[str], typer.Argument(help="Document numbers, e.g. 2-5 4-17.")],
    reason: Annotated[str, typer.Option(help="Why they are excluded (recorded).")],
) -> None:
    """Exclude documents by hand, with a reason."""
    n = state(ctx).open().corpus.exclude(numbers, reason=reason)
    typer.echo(f"excluded {n} documents")


@guarded
def include(
    ctx: typer.Context,
    numbers: Annotated[list[str], typer.Argument(help="Document numbers, e.g. 2-5.")],
) -> None:
    """Include documents again (the earlier decision stays in the record)."""
    n = state(ctx).open().corpus.include(numbers)
    typer.echo(f"included {n} documents")


@guarded
def dedup(
    ctx: typer.Context,
    threshold: Annotated[
        float, typer.Option(help="Similarity (Jaccard of character 3-grams) that makes a repost.")
    ] = 0.9,
    dry_run: Annotated[
        bool, typer.Option(help="List the groups without excluding anything.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Exclude exact and near-duplicate reposts, keeping the earliest of each group."""
    report = state(ctx).open().corpus.dedup(threshold=threshold, dry_run=dry_run)
    if json_:
        emit_json(report.to_json())
        return
    for g in report.groups:
        dups = ", ".join(f"{d} ({s:.2f})" for d, s in g.duplicates)
        typer.echo(f"keep {g.keep}: {dups}")
    verb = "would exclude" if dry_run else "excluded"
    n = sum(len(g.duplicates) for g in report.groups) if dry_run else report.excluded
    typer.echo(f"{len(report.groups)} groups; {verb} {n} duplicates")


@guarded
def sample(
    ctx: typer.Context,
    type_: Annotated[str, typer.Option("--type", help="Source type to sample.")],
    n: Annotated[int, typer.Option("--n", help="How many documents to keep.")],
    stratify_by: Annotated[
        str | None, typer.Option(help="Stratify by quantile bins of: views.")
    ] = None,
    bins: Annotated[int, typer.Option(help="Number of quantile bins.")] = 5,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the project's).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Keep a seeded, stratified random sample of one source type."""
    report = (
        state(ctx)
        .open()
        .corpus.sample(type=type_, n=n, stratify_by=stratify_by, bins=bins, seed=seed)
    )
    if json_:
        emit_json(report.to_json())
        return
    typer.echo(
        f"{report.type_name}: kept {len(report.sampled)} of {report.population}; "
        f"excluded {report.excluded} as not sampled"
    )
    if report.strata and len(report.strata) > 1:
        print_table(["stratum", "size", "taken"], report.strata)


@guarded
def split(
    ctx: typer.Context,
    holdout: Annotated[
        float | None, typer.Option(help="Share held out for the saturation test.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the project's).")] = None,
    force: Annotated[
        bool, typer.Option(help="Allow moving documents that already have codings.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Split the included documents into build set and holdout, stratified by source type."""
    report = state(ctx).open().corpus.split(holdout=holdout, seed=seed, force=force)
    if json_:
        emit_json(report.to_json())
        return
    print_table(
        ["type", "build", "holdout"],
        [(t, v["build"], v["holdout"]) for t, v in report.by_type.items()],
        title=f"split (holdout {report.holdout_ratio:g}, seed {report.seed})",
    )


@guarded
def corpus(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The screening funnel: imported -> excluded by reason -> included, by type and split."""
    f = state(ctx).open().corpus.funnel()
    if json_:
        emit_json(
            {k: f[k] for k in ("documents", "included", "excluded", "by_type", "by_split")}
            | {
                "by_type": {
                    t: {
                        "documents": v["documents"],
                        "included": v["included"],
                        "excluded": v["excluded"],
                        "build": v["build"],
                        "holdout": v["holdout"],
                    }
                    for t, v in f["by_type"].items()
                }
            }
        )
        return
    kinds = [k for k, n in f["excluded"].items() if n]
    rows = []
    for v in f["by_type"].values():
        rows.append(
            [
                f"{v['id']} {v['name']}",
                v["documents"],
                *[v["excluded"].get(k, 0) for k in kinds],
                v["included"],
                v["build"],
                v["holdout"],
            ]
        )
    rows.append(
        [
            "all",
            f["documents"],
            *[f["excluded"][k] for k in kinds],
            f["included"],
            f["by_split"]["build"],
            f["by_split"]["holdout"],
        ]
    )
    print_table(
        ["type", "imported", *[f"- {k}" for k in kinds], "included", "build", "holdout"],
        rows,
        title="corpus funnel",
    )
    if f.get("unsplit"):
        typer.echo(f"{f['unsplit']} included documents are not split yet (run: groundcode split)")


@guarded
def search(
    ctx: typer.Context,
    term: Annotated[str, typer.Argument(help="Text to find (searched literally, any length).")],
    limit: Annotated[int, typer.Option(help="Most hits to show.")] = 20,
    json_: JsonOpt = False,
) -> None:
    """Full-text search over the included documents, with keyword-in-context snippets."""
    result = state(ctx).open().corpus.search(term, limit=limit)
    if json_:
        emit_json(result.to_json())
        return
    typer.echo(f"{result.total} passages contain '{result.term}'")
    print_table(
        ["document", "passage", "snippet"],
        [(h.document, h.passage, h.snippet) for h in result.hits],
    )


@guarded
def documents(
    ctx: typer.Context,
    type_: Annotated[str | None, typer.Option("--type", help="Only this source type.")] = None,
    split: Annotated[str | None, typer.Option(help="build or holdout.")] = None,
    status: Annotated[str | None, typer.Option(help="included or excluded.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List documents with their number, type, title, split, status and passages."""
    frame = state(ctx).open().corpus.documents(type=type_, split=split, status=status)
    if json_:
        emit_json(
            [
                {
                    "number": r.number,
                    "type": r.type,
                    "title": cell(r.title) or None,
                    "split": cell(r.split) or None,
                    "status": r.status,
                    "passages": int(r.passages),
                }
                for r in frame.itertuples(index=False)
            ]
        )
        return
    print_table(
        ["number", "type", "title", "split", "status", "passages"],
        [
            (
                r.number,
                r.type_zh,
                cell(r.title)[:30],
                cell(r.split),
                r.status + (f" ({cell(r.exclusion)})" if cell(r.exclusion) else ""),
                r.passages,
            )
            for r in frame.itertuples(index=False)
        ],
    )


@guarded
def show(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Document number, e.g. 2-5.")],
    json_: JsonOpt = False,
) -> None:
    """Print one document, passage by passage."""
    d = state(ctx).open().corpus.document(number)
    if json_:
        emit_json(
            {
                "number": d.number,
                "type": d.type_name,
                "title": d.title,
                "date": d.date,
                "status": d.status,
                "split": d.split,
                "passages": [
                    {"passage": p.idx, "start": p.start, "end": p.end, "text": p.text}
                    for p in d.passages
                ],
            }
        )
        return
    typer.echo(
        f"{d.number}  {d.type_name}  {d.title or ''}  [{d.status}{', ' + d.split if d.split else ''}]"
    )
    for p in d.passages:
        typer.echo(f"[{p.idx}] {p.text}")


@guarded
def redact(
    ctx: typer.Context,
    patterns: Annotated[
        str, typer.Option(help="Which personal data to mask: phone,id,email.")
    ] = "phone,id,email",
    dry_run: Annotated[bool, typer.Option(help="Only report what would be masked.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Mask phone numbers, ID numbers and e-mail addresses everywhere the project holds them.

    Documents (text, title, author, url, extra columns), passages, codings' snippets,
    memos, the codebook's words and the audit log's snapshots are masked in one
    transaction; token caches and suggestion models are dropped and rebuilt on demand.
    """
    report = state(ctx).open().corpus.redact(patterns=split_csv(patterns), dry_run=dry_run)
    if json_:
        emit_json(report.to_json())
        return
    parts = ", ".join(f"{n} {k}" for k, n in report.replacements.items())
    typer.echo(f"{'would mask' if dry_run else 'masked'} in {report.documents} documents: {parts}")
    if dry_run:
        return
    others = {k: n for k, n in report.fields.items() if not k.startswith("document.")}
    if others:
        typer.echo("also masked: " + ", ".join(f"{n} {k}" for k, n in sorted(others.items())))
    if report.derived_files:
        typer.echo(f"removed {report.derived_files} cache files (rebuilt when needed)")
    if report.compacted is False:
        typer.echo(
            "the database files could not be rewritten (another session was reading, or the"
            " tables are not yours): old text may remain in them; run redact again when"
            " no one else has the project open (PostgreSQL: the owner runs VACUUM)",
            err=True,
        )
    for copy in report.copies:
        typer.echo(f"still unmasked: {copy} (a copy made before a schema upgrade)", err=True)


@guarded
def personal(
    ctx: typer.Context,
    numbers: Annotated[list[str], typer.Argument(help="Document numbers.")],
    off: Annotated[bool, typer.Option("--off", help="Clear the mark instead.")] = False,
) -> None:
    """Mark documents as holding personal data: exports leave them out unless --include-personal."""
    n = state(ctx).open().corpus.mark_personal(numbers, personal=not off)
    typer.echo(f"{'cleared' if off else 'marked'} {n} documents")


@guarded
def index(ctx: typer.Context) -> None:
    """Build the fast-search index for passages imported since the last run (resumable)."""
    p = state(ctx).open()
    n = p.corpus.build_search_index(progress=progress_printer("indexing", True))
    done, total = p.corpus.search_index_status()
    typer.echo(f"indexed {n} passages; {done} of {total} passages are in the search index")
