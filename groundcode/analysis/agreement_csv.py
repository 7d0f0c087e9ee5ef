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
from pathlib import Path
from typing import TYPE_CHECKING

from groundcode.analysis import stats
from groundcode.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from groundcode.analysis.agreement_core import AgreementResult

REQUIRED = ("unit", "coder", "code")
AUTO_BOOTSTRAP_UNITS = 20_000
"""Files with at most this many units get a 1000-draw bootstrap CI by default."""


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}; "
            "save the file as UTF-8)"
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
        raise UsageError(
            f"--alpha-level must be one of {', '.join(stats.ALPHA_LEVELS)}, not '{alpha_level}'"
        )
    if not p.exists():
        raise UsageError(f"{p}: no such file")
    if not p.is_file():
        raise UsageError(f"{p}: not a file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror or exc})") from None
    text = _decode(p, data)
    if not text.strip():
        raise UsageError(f"{p}: empty file (expected a header row: unit,coder,code)")
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
        raise UsageError(f"{p}: not a valid CSV file ({detail})") from None
    lower = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in REQUIRED if c not in lower]
    if missing:
        found = ", ".join(str(c) for c in frame.columns) or "none"
        raise UsageError(f"{p}: missing column(s) {', '.join(missing)} (found: {found})")
    frame = frame[[lower[c] for c in REQUIRED]]
    frame.columns = list(REQUIRED)
    if frame.empty:
        raise UsageError(f"{p}: no data rows (only a header)")
    out = pd.DataFrame({c: frame[c].astype(str).map(str.strip) for c in REQUIRED})
    out["row"] = range(2, len(out) + 2)
    for col in ("unit", "coder"):
        blank = (out[col] == "").to_numpy()
        if blank.any():
            row = int(out["row"].to_numpy()[blank][0])
            raise UsageError(f"{p}: row {row}: the {col} is empty")
    out["code"] = out["code"].where(out["code"] != "", None)
    coders = list(dict.fromkeys(out["coder"].tolist()))
    if len(coders) < 2:
        raise UsageError(
            f"{p}: agreement needs at least two coders; found {len(coders)} ({', '.join(coders)})"
        )
    if alpha_level != "nominal":
        codes = out["code"]
        nums = pd.to_numeric(codes, errors="coerce")
        bad = (codes.notna() & nums.isna()).to_numpy()
        if bad.any():
            i = int(bad.nonzero()[0][0])
            raise UsageError(
                f"{p}: row {int(out['row'].iloc[i])}: code '{codes.iloc[i]}' is not a number "
                f"({alpha_level} alpha needs numeric codes)"
            )
    return out


def agreement_from_csv(
    path: str | Path,
    *,
    alpha_level: str = "nominal",
    ignore_uncoded: bool = False,
    seed: int = 0,
    bootstrap: int | None = None,
) -> AgreementResult:
    """Agreement for an Agreement CSV (level "code", unit "unit").

    Single-label files (every coder at most one code per unit) get the
    multi-class kappa; in multi-label files ``per_code`` holds each code's
    binary kappa over units judged by both and ``kappa`` is the pooled one.
    ``bootstrap=None`` draws 1000 bootstrap resamples (seeded by ``seed``)
    for the CIs of alpha and each pair's kappa when the file has at most
    20,000 units, and skips them (with a note) above that; pass a number to
    choose.
    """
    from groundcode.analysis.agreement_core import compute_agreement

    p = Path(path)
    rows = read_agreement_csv(p, alpha_level=alpha_level)
    n_units = int(rows["unit"].nunique())
    draws = bootstrap
    extra: list[str] = []
    if draws is None:
        draws = 1000 if n_units <= AUTO_BOOTSTRAP_UNITS else 0
        if not draws:
            extra.append(
                f"bootstrap CIs skipped for {n_units} units (ask for them with bootstrap draws)"
            )
    try:
        result = compute_agreement(
            rows,
            ignore_uncoded=ignore_uncoded,
            alpha_level=alpha_level,
            seed=seed,
            level="code",
            unit_kind="unit",
            bootstrap=draws,
        )
    except UsageError as exc:
        raise UsageError(f"{p}: {exc.message.removeprefix('agreement data: ')}") from None
    if extra:
        result = dataclasses.replace(result, notes=result.notes + tuple(extra))
    return result
