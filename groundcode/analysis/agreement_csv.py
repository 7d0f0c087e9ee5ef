"""``groundcode agree --csv FILE``: agreement from a standalone long-format file.

The Agreement CSV (SPEC §3) is ``unit,coder,code``, one row per code a coder
applied to a unit; an empty ``code`` means the coder judged the unit and
applied nothing; a missing (unit, coder) pair means "not judged". Researchers
bring these files from other tools, so every problem is reported as one line
naming the file (and the row, counted as a spreadsheet does: the header is
row 1, the first data row is row 2) and nothing is computed from bad input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from groundcode.analysis import stats
from groundcode.analysis.agreement_core import TooFewCoders
from groundcode.domain.errors import BadOption, GroundcodeError, InvalidInput, NotFound

if TYPE_CHECKING:
    import pandas as pd

    from groundcode.analysis.agreement_core import AgreementResult

REQUIRED = ("unit", "coder", "code")
MAX_CELL = 10_000  # characters in one unit, coder or code label
AUTO_BOOTSTRAP_UNITS = 20_000
"""Files with at most this many units get a 1000-draw bootstrap CI by default."""


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            str(path), 0, "agreement_not_utf8", f"0x{data[exc.start]:02x} @ {exc.start}"
        ) from None


def _refuse_a_huge_cell(path: Path) -> None:
    """Refuse a cell far over ``MAX_CELL`` before the whole file is read.

    pandas parses a file held whole and decoded: one 200 MB cell took about ten
    seconds and 1.7 GB of memory just to be refused. In UTF-8 a character is at
    most 4 bytes, so a run of more than ``4 * MAX_CELL + 2`` bytes (the 2 for its
    quotes) with no comma or line break is one cell over the limit; this scan reads
    1 MB at a time and stops at the first such run. Cells just over the limit are
    caught after parsing, where their row is known exactly.
    """
    limit = 4 * MAX_CELL + 2
    run = 0  # bytes since the last comma or line break
    run_row = 1  # the row (line) where that run started
    lines = 0  # line breaks before the current chunk
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                arr = np.frombuffer(chunk, dtype=np.uint8)
                newline = arr == 0x0A
                cuts = np.flatnonzero(newline | (arr == 0x2C) | (arr == 0x0D))
                if len(cuts) == 0:
                    run += len(arr)
                    if run > limit:
                        raise InvalidInput(str(path), run_row, "cell_too_large", str(MAX_CELL))
                    continue
                if run + int(cuts[0]) > limit:
                    raise InvalidInput(str(path), run_row, "cell_too_large", str(MAX_CELL))
                gaps = np.diff(cuts) - 1
                over = np.flatnonzero(gaps > limit)
                if len(over):
                    start = int(cuts[over[0]])
                    row = lines + int(newline[: start + 1].sum()) + 1
                    raise InvalidInput(str(path), row, "cell_too_large", str(MAX_CELL))
                lines += int(newline.sum())
                run = len(arr) - 1 - int(cuts[-1])
                run_row = lines + 1
    except OSError as exc:
        raise InvalidInput(
            str(path), 0, "agreement_cannot_read", str(exc.strerror or exc)
        ) from None


def read_agreement_csv(path: str | Path, *, alpha_level: str = "nominal") -> pd.DataFrame:
    """Read and check an Agreement CSV; returns columns ``unit, coder, code, row``.

    ``code`` is None where the coder applied nothing; ``row`` is the
    spreadsheet row number, kept so later messages can point at the line.
    Checks: the file exists and is UTF-8 (a BOM is fine), has the columns
    unit, coder and code (any case, extra columns ignored), at least one data
    row, no empty unit or coder, at least two coders, and numeric codes when
    ``alpha_level`` is ordinal, interval or ratio.
    """
    import io

    import pandas as pd

    p = Path(path)
    if alpha_level not in stats.ALPHA_LEVELS:
        raise BadOption("alpha_level", alpha_level, ", ".join(stats.ALPHA_LEVELS))
    if not p.exists():
        raise NotFound("file", str(p))
    if not p.is_file():
        raise InvalidInput(str(p), 0, "agreement_not_a_file")
    _refuse_a_huge_cell(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InvalidInput(str(p), 0, "agreement_cannot_read", str(exc.strerror or exc)) from None
    text = _decode(p, data)
    if not text.strip():
        raise InvalidInput(str(p), 0, "agreement_empty_file")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "cannot parse"
        raise InvalidInput(str(p), 0, "agreement_bad_csv", detail) from None
    lower = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in REQUIRED if c not in lower]
    if missing:
        found = ", ".join(str(c) for c in frame.columns) or "none"
        raise InvalidInput(
            str(p), 1, "agreement_missing_columns", f"{', '.join(missing)} (found: {found})"
        )
    frame = frame[[lower[c] for c in REQUIRED]]
    frame.columns = list(REQUIRED)
    for col in REQUIRED:
        lengths = frame[col].map(lambda v: len(str(v)))
        if len(lengths) and int(lengths.max()) > MAX_CELL:
            row = int(lengths.to_numpy().argmax()) + 2
            # A unit, coder or code is a short label; a huge cell is a broken file.
            raise InvalidInput(str(p), row, "cell_too_large", str(MAX_CELL))
    if frame.empty:
        raise InvalidInput(str(p), 1, "agreement_no_rows")
    out = pd.DataFrame({c: frame[c].astype(str).map(str.strip) for c in REQUIRED})
    out["row"] = range(2, len(out) + 2)
    for col in ("unit", "coder"):
        blank = (out[col] == "").to_numpy()
        if blank.any():
            row = int(out["row"].to_numpy()[blank][0])
            raise InvalidInput(str(p), row, f"agreement_empty_{col}")
    out["code"] = out["code"].where(out["code"] != "", None)
    coders = list(dict.fromkeys(out["coder"].tolist()))
    if len(coders) < 2:
        raise TooFewCoders(f"{len(coders)} ({', '.join(coders)})", str(p))
    if alpha_level != "nominal":
        codes = out["code"]
        nums = pd.to_numeric(codes, errors="coerce")
        bad = (codes.notna() & nums.isna()).to_numpy()
        if bad.any():
            i = int(bad.nonzero()[0][0])
            raise InvalidInput(
                str(p), int(out["row"].iloc[i]), "agreement_not_number", str(codes.iloc[i])
            )
    return out


@dataclass(eq=False)
class WeightsSize(GroundcodeError):
    """A weight matrix whose size does not fit the categories of the data."""

    file: str
    rows: int
    cols: int
    q: int
    categories: str


WEIGHT_KINDS = ("linear", "quadratic")


def read_weights(path: str | Path, categories: Sequence[str]) -> NDArray[np.float64]:
    """Disagreement weights (0 on the diagonal) for ``categories`` from a CSV file.

    The file is a square matrix, optionally with the category labels as its
    first row and first column (then in any order). Agreement weights (1 on
    the diagonal, as irrCAC writes them) are turned into disagreement weights
    1 - w; weighted kappa is the same either way.
    """
    import csv
    import io

    p = Path(path)
    if not p.is_file():
        raise NotFound("file", str(p))
    raw = _decode(p, p.read_bytes())
    cells = [
        [c.strip() for c in row]
        for row in csv.reader(io.StringIO(raw))
        if any(c.strip() for c in row)
    ]

    def number(x: str) -> float | None:
        try:
            return float(x)
        except ValueError:
            return None

    labelled = bool(cells) and (cells[0][0] == "" or number(cells[0][0]) is None)
    if labelled:
        header = cells[0][1:]
        labels = [row[0] for row in cells[1:]]
        body = [row[1:] for row in cells[1:]]
    else:
        header = labels = list(categories)
        body = cells
    n_rows, n_cols = len(body), max((len(r) for r in body), default=0)
    q = len(categories)
    if n_rows != q or n_cols != q or any(len(r) != q for r in body):
        raise WeightsSize(str(p), n_rows, n_cols, q, ", ".join(categories))
    values = np.zeros((q, q))
    for i, row in enumerate(body):
        for j, cell in enumerate(row):
            v = number(cell)
            if v is None:
                raise InvalidInput(str(p), i + 1 + int(labelled), "weights_not_number", cell)
            values[i, j] = v
    if labelled:
        unknown = [c for c in list(header) + list(labels) if c not in categories]
        if unknown:
            raise InvalidInput(str(p), 1, "weights_unknown_category", unknown[0])
        ri = [labels.index(c) for c in categories]
        ci = [list(header).index(c) for c in categories]
        values = values[np.ix_(ri, ci)]
    diag = np.diag(values)
    if np.all(diag == 0):
        return values
    if np.all(diag == 1):
        return 1.0 - values
    raise InvalidInput(str(p), 0, "weights_diagonal", "")


def _category_order(codes: Sequence[str]) -> list[str]:
    """Ordered categories: numerically when every code is a number, else as text."""
    import math

    def key(c: str) -> tuple[int, float, str]:
        try:
            v = float(c)
            return (0, v, c) if math.isfinite(v) else (1, 0.0, c)
        except ValueError:
            return (1, 0.0, c)

    return sorted(codes, key=key)


def weighted_kappa(
    rows: pd.DataFrame, coders: Sequence[str], weights: str | Path, *, file: str = ""
) -> tuple[dict[str, Any], int]:
    """Cohen's (1968) weighted kappa of two coders, one code per unit.

    ``weights``: ``linear`` (|i - j|), ``quadratic`` ((i - j)^2) over the
    ordered categories (as scikit-learn's ``cohen_kappa_score``), or a file
    of disagreement weights (see :func:`read_weights`). Units where a coder
    applied no code are left out; returns the result and how many were.
    """
    a, b = coders[0], coders[1]
    sub = rows[rows["coder"].isin([a, b])]
    per = sub.groupby(["unit", "coder"])["code"].agg(lambda s: [c for c in s if c])
    if (per.map(len) > 1).any():
        raise InvalidInput(file, 0, "weights_single_label", "")
    wide = per.map(lambda v: v[0] if v else None).unstack("coder")
    if a not in wide.columns or b not in wide.columns:
        raise InvalidInput(file, 0, "weights_single_label", "")
    wide = wide.dropna(subset=[a, b], how="any")
    both = wide[[a, b]].dropna()
    left_out = int(sub.groupby("unit")["coder"].nunique().ge(2).sum() - len(both))
    cats = _category_order(sorted(set(both[a]) | set(both[b])))
    q = len(cats)
    name = weights if isinstance(weights, str) and weights in WEIGHT_KINDS else "file"
    if name == "file":
        v = read_weights(weights, cats)
    else:
        i = np.arange(q)
        d = np.abs(i[:, None] - i[None, :]).astype(np.float64)
        v = d if name == "linear" else d**2
    pos = {c: k for k, c in enumerate(cats)}
    ia = both[a].map(pos).to_numpy(dtype=np.int64)
    ib = both[b].map(pos).to_numpy(dtype=np.int64)
    n = ia.size
    cm = np.bincount(ia * q + ib, minlength=q * q).reshape(q, q).astype(np.float64)
    value: float | None = None
    reason: str | None = None
    if n == 0:
        reason = "no units"
    else:
        po = cm / n
        pe = np.outer(po.sum(axis=1), po.sum(axis=0))
        den = float((v * pe).sum())
        if den > 0:
            value = 1.0 - float((v * po).sum()) / den
        else:
            reason = "no variation"
    out = {
        "weights": name if name != "file" else str(weights),
        "value": value,
        "reason": reason,
        "n_units": n,
        "categories": cats,
    }
    return out, left_out


def agreement_from_csv(
    path: str | Path,
    *,
    alpha_level: str = "nominal",
    ignore_uncoded: bool = False,
    seed: int = 0,
    bootstrap: int | None = None,
    weights: str | Path | None = None,
) -> AgreementResult:
    """Agreement for an Agreement CSV (level "code", unit "unit").

    Single-label files (every coder at most one code per unit) get the
    multi-class kappa; in multi-label files ``per_code`` holds each code's
    binary kappa over units judged by both and ``kappa`` is the pooled one.
    ``bootstrap=None`` draws 1000 bootstrap resamples (seeded by ``seed``)
    for the CIs of alpha and each pair's kappa when the file has at most
    20,000 units, and skips them (with a note) above that; pass a number to
    choose. ``weights`` (linear, quadratic or a weight-matrix file) adds
    Cohen's weighted kappa for two coders with ordered codes.
    """
    from groundcode.analysis.agreement_core import Note, compute_agreement

    p = Path(path)
    rows = read_agreement_csv(p, alpha_level=alpha_level)
    n_units = int(rows["unit"].nunique())
    draws = bootstrap
    extra: list[Note] = []
    if draws is None:
        draws = 1000 if n_units <= AUTO_BOOTSTRAP_UNITS else 0
        if not draws:
            extra.append(Note("bootstrap_skipped", {"n": n_units}))
    try:
        result = compute_agreement(
            rows,
            ignore_uncoded=ignore_uncoded,
            alpha_level=alpha_level,
            seed=seed,
            level="code",
            unit_kind="unit",
            bootstrap=draws,
            judged="given",
        )
    except InvalidInput as exc:
        raise dataclasses.replace(exc, file=str(p)) from None
    except TooFewCoders as exc:
        raise dataclasses.replace(exc, file=str(p)) from None
    if weights is not None:
        if isinstance(weights, str) and weights not in WEIGHT_KINDS:
            weights = Path(weights)
        wk, left_out = weighted_kappa(rows, result.coders, weights, file=str(weights))
        extra.append(Note("weighted", {"weights": wk["weights"], "n": wk["n_units"]}))
        if left_out:
            extra.append(Note("weighted_none_left_out", {"n": left_out}))
        result = dataclasses.replace(result, weighted=wk)
    if extra:
        result = dataclasses.replace(result, notes=result.notes + tuple(extra))
    return result
