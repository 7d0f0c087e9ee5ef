"""Analysis commands: agreement, reconciliation, saturation, the model, words, suggestions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from groundcode.cli.common import JsonOpt, emit_json, fail, guarded, print_table, split_csv, state
from groundcode.domain.errors import BadOption, OutOfRange, ProblemFound, Refused


def register(app: typer.Typer) -> None:
    app.command("agree")(agree)
    app.command("reconcile")(reconcile)
    app.command("saturation")(saturation)
    app.command("model")(model)
    app.command("words")(words)
    app.command("suggest")(suggest)
    app.command("dictionary")(dictionary)


def landis_koch(k: float | None) -> str:
    from groundcode.analysis.stats import landis_koch as lk

    return "" if k is None else lk(k)


def _fmt(x: Any, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


KAPPA_NAMES = {
    "multiclass": "Cohen's kappa (multi-class)",
    "pooled": "pooled kappa over (unit, code) decisions",
    "light_multiclass": "Light's kappa (mean pairwise multi-class Cohen's kappa)",
    "light_pooled": "Light's kappa (mean pairwise pooled kappa)",
    "char_pooled": "character-pooled kappa",
}


def _ci(data: dict[str, Any], stat: str) -> str:
    ci = (data.get("ci") or {}).get(stat)
    return f" [95% CI {ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


@guarded
def agree(
    ctx: typer.Context,
    coders: Annotated[
        str | None, typer.Option(help="Coders to compare, e.g. lin,zhou (default: all).")
    ] = None,
    level: Annotated[str, typer.Option(help="concept, category or main.")] = "concept",
    unit: Annotated[
        str, typer.Option(help="passage (default) or char (characters, with NVivo's rows).")
    ] = "passage",
    split: Annotated[str, typer.Option(help="build, holdout or all.")] = "all",
    judged: Annotated[
        str | None,
        typer.Option(
            help="Which units count as judged: done (done marks; the default when the "
            "project has any) or coded (documents a coder coded anything in)."
        ),
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Standalone: a unit,coder,code file, no project.")
    ] = None,
    alpha_level: Annotated[
        str,
        typer.Option(
            help="Krippendorff's alpha level for --csv: nominal, ordinal, interval, ratio."
        ),
    ] = "nominal",
    weights: Annotated[
        str | None,
        typer.Option(
            help="--csv: weighted kappa for ordered codes: linear, quadratic, or a weight-matrix CSV."
        ),
    ] = None,
    ignore_uncoded: Annotated[
        bool,
        typer.Option(help="Leave out units no coder coded (by default they count as agreement)."),
    ] = False,
    explain: Annotated[
        str | None, typer.Option(help="Show the 2x2 table and the formula for one code.")
    ] = None,
    disagreements: Annotated[
        bool, typer.Option(help="List the passages where coders differ.")
    ] = False,
    bootstrap: Annotated[
        int,
        typer.Option(
            help="Bootstrap resamples over units for the CIs of kappa, AC1, alpha (0: off)."
        ),
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    without_assisted: Annotated[
        bool,
        typer.Option(
            help="Leave out codings accepted from suggestions (compare with and without)."
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Inter-coder agreement (SPEC §4): kappa of the right kind, AC1, alpha, per code, diagnostics."""
    if bootstrap is not None and bootstrap < 0:
        raise OutOfRange(option="bootstrap", value=str(bootstrap), rule="nonnegative")
    if csv_file is not None:
        from groundcode.analysis.agreement_csv import agreement_from_csv

        result = agreement_from_csv(
            csv_file,
            alpha_level=alpha_level,
            ignore_uncoded=ignore_uncoded,
            bootstrap=bootstrap,
            seed=seed,
            weights=weights,
        )
    else:
        if weights is not None:
            raise Refused("weights_needs_csv")
        p = state(ctx).open()
        if disagreements:
            items = p.analysis.disagreements(
                coders=split_csv(coders) or None, level=level, split=split
            )
            if json_:
                emit_json([d.to_json() for d in items])
                return
            for d in items:
                codes = "  |  ".join(f"{c}: {', '.join(v) or '-'}" for c, v in d.codes.items())
                mark = f" [decided: {d.decided}]" if d.decided else ""
                typer.echo(f"{d.document} #{d.passage}{mark}: {codes}\n    {d.text[:80]}")
            typer.echo(f"{len(items)} passages with disagreements")
            return
        result = p.analysis.agreement(
            coders=split_csv(coders) or None,
            level=level,
            unit=unit,
            split=split,
            ignore_uncoded=ignore_uncoded,
            bootstrap=1000 if bootstrap is None else bootstrap,
            seed=seed,
            assisted=not without_assisted,
            judged=judged,
        )
    data = result.to_json()
    if explain:
        if hasattr(result, "explain"):
            typer.echo(result.explain(explain))
            return
        from groundcode.analysis.stats import explain_binary

        row = next((r for r in data["per_code"] if r["code"] == explain), None)
        if row is None:
            raise Refused("explain_no_code", name=explain)
        typer.echo(
            explain_binary(row["both"], row["a_only"], row["b_only"], row["neither"], code=explain)
        )
        return
    if json_:
        emit_json(data)
        return
    _print_agreement(data)


def _print_agreement(data: dict[str, Any]) -> None:
    docs = f" in {data['n_documents']} documents" if data.get("n_documents") is not None else ""
    typer.echo(
        f"coders: {', '.join(data['coders'])}   level: {data['level']}   unit: {data['unit']}   "
        f"judged: {data['judged']}   units: {data['n_units']}{docs}"
    )
    typer.echo(
        f"percent agreement (same set of codes per unit): {_fmt(data['percent_agreement'])}   "
        f"decision agreement: {_fmt(data.get('decision_agreement'))}"
    )
    kind = KAPPA_NAMES.get(str(data.get("kappa_kind")), str(data.get("kappa_kind")))
    typer.echo(f"{kind}: {_fmt(data['kappa'])}{_ci(data, 'kappa')} {landis_koch(data['kappa'])}")
    if data["unit"] != "char":
        if data.get("kappa_kind") != "pooled":
            typer.echo(f"pooled kappa over (unit, code) decisions: {_fmt(data['kappa_pooled'])}")
        bp = (
            "PABAK"
            if data.get("kappa_bp_q") == 2
            else f"Brennan-Prediger (q = {data.get('kappa_bp_q')})"
        )
        typer.echo(
            f"Gwet's AC1: {_fmt(data.get('ac1'))}{_ci(data, 'ac1')}   Scott's pi: {_fmt(data.get('scott_pi'))}   "
            f"{bp}: {_fmt(data.get('kappa_bp'))}"
        )
        extra = (
            f"   Conger's kappa: {_fmt(data.get('conger_kappa'))}"
            if len(data["coders"]) > 2
            else ""
        )
        typer.echo(
            f"Krippendorff's alpha: {_fmt(data.get('alpha'))}{_ci(data, 'alpha')}   "
            f"Fleiss' kappa: {_fmt(data.get('fleiss_kappa'))}{extra}"
        )
        if data.get("weighted_kappa"):
            wk = data["weighted_kappa"]
            typer.echo(f"weighted kappa ({wk['weights']}): {_fmt(wk['value'])}")
    print_table(
        [
            "code",
            "kappa",
            "",
            "agreement",
            "p_pos",
            "p_neg",
            "PI",
            "BI",
            "both",
            "a only",
            "b only",
            "neither",
        ],
        [
            (
                r["code"],
                _fmt(r["kappa"]),
                landis_koch(r["kappa"]),
                _fmt(r["agreement"]),
                _fmt(r.get("p_pos")),
                _fmt(r.get("p_neg")),
                _fmt(r.get("prevalence_index"), 2),
                _fmt(r.get("bias_index"), 2),
                r["both"],
                r["a_only"],
                r["b_only"],
                r["neither"],
            )
            for r in data["per_code"]
        ],
    )
    for d in data.get("diagnostics", []):
        typer.echo(f"check: {d['message_en']}")
    for note in data.get("notes", []):
        typer.echo(f"note: {note}")
    typer.echo("")
    typer.echo(f"methods: {data['methods']['en']}")
    typer.echo(f"方法：{data['methods']['zh']}")


@guarded
def reconcile(
    ctx: typer.Context,
    coders: Annotated[
        str | None, typer.Option(help="The coders to reconcile, e.g. lin,zhou.")
    ] = None,
    document: Annotated[
        str | None, typer.Option(help="Decide one disagreement: the document number.")
    ] = None,
    passage: Annotated[int | None, typer.Option(help="... and its passage.")] = None,
    keep: Annotated[
        str | None,
        typer.Option(help="... keep a (first coder), b, both, neither, or a coder's name."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Copy agreed codings to consensus and list the disagreements (or decide one)."""
    p = state(ctx).open()
    if document or passage or keep:
        if not (document and passage and keep):
            raise Refused("decide_needs_all")
        added = p.analysis.decide(document, passage, keep, coders=split_csv(coders) or None)
        typer.echo(f"{document} #{passage}: kept {keep} ({added} codings added to consensus)")
        return
    report = p.analysis.reconcile(coders=split_csv(coders) or None)
    if json_:
        emit_json(report.to_json())
        return
    typer.echo(
        f"{report.copied} agreed codings copied to consensus ({report.already} were there already)"
    )
    open_items = [d for d in report.disagreements if d.decided is None]
    for d in open_items[:50]:
        codes = "  |  ".join(f"{c}: {', '.join(v) or '-'}" for c, v in d.codes.items())
        typer.echo(f"  {d.document} #{d.passage}: {codes}")
    if len(open_items) > 50:
        typer.echo(f"  ... and {len(open_items) - 50} more (agree --disagreements lists them all)")
    typer.echo(
        f"{len(open_items)} disagreements to decide: groundcode reconcile --document D --passage N --keep a|b|both|neither"
    )


@guarded
def saturation(
    ctx: typer.Context,
    action: Annotated[
        str | None,
        typer.Argument(help="begin: the lead records the holdout start (once)."),
    ] = None,
    base: Annotated[int, typer.Option(help="Guest et al. base size (documents).")] = 4,
    run: Annotated[int, typer.Option(help="Guest et al. run length (documents).")] = 2,
    threshold: Annotated[float, typer.Option(help="New-information threshold (0.05 = 5%).")] = 0.05,
    permutations: Annotated[
        int, typer.Option(help="Repeat the Guest rule over K seeded random orders.")
    ] = 0,
    seed: Annotated[
        int | None, typer.Option(help="Seed of --permutations (default: the project's).")
    ] = None,
    coder: Annotated[
        str | None, typer.Option(help="One coder's codings instead of the consensus.")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit with code 1 when not saturated.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Write the saturation curve (.png or .svg).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """The holdout test of theoretical saturation, and the saturation curve.

    `saturation begin` records the holdout start (a lead, once): until then
    holdout documents stay out of the coders' queues and the test gives no verdict.
    """
    from groundcode.domain.errors import BadOption
    from groundcode.domain.wording import text

    p = state(ctx).open()
    if action is not None:
        if action != "begin":
            raise BadOption("action", action, "begin")
        at = p.progress.begin_holdout()
        if json_:
            emit_json({"holdout_start": at.isoformat(timespec="seconds")})
        else:
            typer.echo(text("saturation.begun", "en", at=at.isoformat(timespec="seconds")))
        return
    report = p.analysis.saturation(
        coder=coder,
        base=base,
        run=run,
        threshold=threshold,
        permutations=permutations,
        seed=seed,
    )
    data = report.to_json()
    if plot is not None:
        p.exports.saturation_plot(report, plot, force=True)
    if json_:
        emit_json(data)
    else:
        verdict = {True: "true", False: "false", None: "none"}[report.saturated]
        typer.echo(f"{text('saturation.verdict.' + verdict, 'en')} (basis: {report.basis})")
        for r in report.reasons:
            typer.echo(f"  - {r}")
        start = report.holdout_start.isoformat(timespec="seconds") if report.holdout_start else "-"
        typer.echo(
            f"holdout (started {start}): {report.holdout_done} of {report.holdout_documents} "
            f"documents judged, {report.holdout_coded} coded"
        )
        if report.new_concept_items:
            print_table(
                ["new concept (first met in the holdout)", "document", "placed in", "history"],
                [
                    (
                        n.concept,
                        n.document,
                        n.category or "(not placed)",
                        " -> ".join(h.category or "(none)" for h in n.history),
                    )
                    for n in report.new_concept_items
                ],
            )
        g = report.guest
        if g.confirmed_at:
            reached = (
                f"saturation point {g.saturation_point} documents, "
                f"confirmed at document {g.confirmed_at}"
            )
        else:
            reached = "not reached"
        typer.echo(
            f"Guest et al. (base {g.base}, run {g.run}, threshold {g.threshold:.0%}): {reached}"
            + (f" ({g.note})" if g.note else "")
        )
        if g.later_exceedances:
            shown = ", ".join(map(str, g.later_exceedances[:10]))
            more = "..." if len(g.later_exceedances) > 10 else ""
            typer.echo(f"  later runs above the threshold (ending at document): {shown}{more}")
        if g.permutations is not None:
            band = g.permutations
            if band.median is None:
                typer.echo(f"  {band.k} random orders (seed {band.seed}): never reached")
            else:
                typer.echo(
                    f"  {band.k} random orders (seed {band.seed}): saturation point median "
                    f"{band.median:g}, 5-95% {band.p5:g} to {band.p95:g} "
                    f"(reached in {band.reached})"
                )
        if plot is not None:
            typer.echo(f"curve written to {plot}")
    if strict and report.saturated is not True:
        raise ProblemFound(
            "not_saturated" if report.saturated is False else "no_saturation_verdict"
        )


@guarded
def model(
    ctx: typer.Context,
    format_: Annotated[
        str, typer.Option("--format", help="mermaid, dot, svg or text.")
    ] = "mermaid",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    cycles: Annotated[
        str | None,
        typer.Option(
            help="'forbid' makes a feedback loop in the model an error; 'allow' undoes it."
        ),
    ] = None,
) -> None:
    """Draw the selective-coding model (core category, relation classes, edges)."""
    p = state(ctx).open()
    if cycles is not None:
        if cycles not in ("forbid", "allow"):
            raise BadOption("cycles", cycles, "forbid, allow")
        p.analysis.forbid_cycles(cycles == "forbid")
    text = p.analysis.render_model(format_)
    if output is None:
        if format_ == "svg":
            fail("--format svg needs -o FILE.svg")
        typer.echo(text, nl=False)
        return
    from groundcode.exports.safety import atomic_output

    with atomic_output(output, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")


@guarded
def words(
    ctx: typer.Context,
    by: Annotated[str, typer.Option(help="type, split, document or code.")] = "type",
    top: Annotated[int, typer.Option(help="Words per group.")] = 20,
    tfidf: Annotated[
        bool, typer.Option(help="Distinctive terms (TF-IDF) instead of counts.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Word frequencies (jieba, with the project dictionary) or distinctive terms."""
    frame = state(ctx).open().analysis.words(by=by, top=top, distinctive=tfidf)
    if json_:
        emit_json(frame.to_dict(orient="records"))
        return
    print_table(list(frame.columns), frame.round(4).itertuples(index=False))


@guarded
def suggest(
    ctx: typer.Context,
    document: Annotated[str | None, typer.Argument(help="Document number, e.g. 4-12.")] = None,
    passage: Annotated[int | None, typer.Option(help="Passage number (default 1).")] = None,
    coder: Annotated[
        str | None,
        typer.Option(help="Learn from this coder (default: consensus, or yourself in blind mode)."),
    ] = None,
    evaluate: Annotated[
        bool, typer.Option(help="Measure the suggestions on held-out coded passages.")
    ] = False,
    top: Annotated[int, typer.Option(help="How many concepts to list.")] = 5,
    json_: JsonOpt = False,
) -> None:
    """Suggest concepts for a passage, learned from the existing codings (never applied for you)."""
    p = state(ctx).open()
    if evaluate:
        scores = p.analysis.evaluate_suggestions(coder=coder)
        if json_:
            emit_json(scores)
        else:
            for k, v in scores.items():
                typer.echo(f"{k}: {v if isinstance(v, int) else f'{v:.3f}'}")
        return
    if not document:
        raise Refused("suggest_needs_document")
    ranked = p.analysis.suggest(document, passage=passage, coder=coder, top=top)
    if json_:
        emit_json(ranked)
    else:
        print_table(["concept", "score"], [(r["concept"], f"{r['score']:.3f}") for r in ranked])


@guarded
def dictionary(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A jieba user dictionary: 'word freq pos' per line.")
    ],
) -> None:
    """Load the project's user dictionary for word segmentation."""
    n = state(ctx).open().analysis.set_user_dictionary(file)
    typer.echo(f"user dictionary: {n} entries")
