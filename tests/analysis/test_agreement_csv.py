"""``agree --csv``: reading and checking Agreement CSV files, and the results."""

from __future__ import annotations

import json
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from groundcode.analysis.agreement_core import TooFewCoders
from groundcode.analysis.agreement_csv import agreement_from_csv, read_agreement_csv
from groundcode.domain.errors import BadOption, GroundcodeError, InvalidInput, NotFound
from groundcode.domain.wording import word

DATA = Path(__file__).resolve().parents[1] / "data" / "agreement"


def test_two_coders_single_label_wikipedia_example() -> None:
    """Wikipedia "Cohen's kappa" example as a file (with a BOM and capitalised headers)."""
    assert (DATA / "cohen_wikipedia.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    res = agreement_from_csv(DATA / "cohen_wikipedia.csv")
    assert res.level == "code" and res.unit == "unit"
    assert res.n_units == 50
    assert res.single_label and res.kappa_kind == "multiclass"
    assert res.kappa == pytest.approx(0.4)
    out = res.to_json()
    # analytic: the Fleiss, Cohen & Everitt SE (statsmodels' std_kappa)
    assert out["se"]["kappa"] == pytest.approx((0.6489077095233389 - 0.4) / 1.959963984540054)
    # small file: 1000-draw bootstrap over units by default, for kappa, AC1 and alpha
    assert out["ci_method"] == "bootstrap" and set(out["ci"]) == {"kappa", "ac1", "alpha"}
    assert out["ci"]["kappa"][0] < 0.4 < out["ci"]["kappa"][1]
    assert res.alpha.ci is not None
    assert len(res.disagreements) == 15


def test_three_coders_with_missing_krippendorff_2011() -> None:
    """Krippendorff (2011) worked example: alpha 0.743 nominal, 0.849 interval."""
    nominal = agreement_from_csv(DATA / "krippendorff_2011_missing.csv")
    # Coders in order of first appearance: C has no value for unit 1.
    assert nominal.coders == ("A", "B", "D", "C")
    assert nominal.alpha.value == pytest.approx(0.743, abs=5e-4)
    assert nominal.n_units == 11
    # Fleiss' kappa with missing ratings as irrCAC defines it, over the 11 compared units
    from irrCAC.raw import CAC

    rows = read_agreement_csv(DATA / "krippendorff_2011_missing.csv")
    wide = rows.pivot(index="unit", columns="coder", values="code").astype(float)
    wide = wide[wide.notna().sum(axis=1) >= 2]
    ref = CAC(wide, digits=15).fleiss()["est"]["coefficient_value"]
    assert nominal.fleiss_kappa == pytest.approx(ref, abs=1e-9)
    assert any("1 unit(s) judged by only one coder" in n for n in nominal.notes_text)
    assert len(nominal.pairs) == 6
    interval = agreement_from_csv(DATA / "krippendorff_2011_missing.csv", alpha_level="interval")
    assert interval.alpha.value == pytest.approx(0.849, abs=5e-4)


def test_fleiss_1971_file() -> None:
    res = agreement_from_csv(DATA / "fleiss_1971.csv", bootstrap=0)
    assert res.fleiss_kappa == pytest.approx(0.210, abs=5e-4)
    rows = read_agreement_csv(DATA / "fleiss_1971.csv")
    table = rows.groupby(["unit", "code"]).size().unstack(fill_value=0).to_numpy()
    assert res.fleiss_kappa == pytest.approx(sm_fleiss(table), abs=1e-12)


def test_multi_label_file() -> None:
    res = agreement_from_csv(DATA / "multi_label.csv", seed=1)
    assert not res.single_label
    assert res.kappa == res.kappa_pooled
    assert res.n_units == 6  # 2-1#7 was judged by lin only
    by_code = {c.code: c for c in res.per_code}
    assert set(by_code) == {"信息共享", "技术赋能", "隐私担忧"}
    share = by_code["信息共享"]
    assert (share.both, share.a_only, share.b_only, share.neither) == (2, 0, 0, 4)
    assert share.kappa == 1.0
    privacy = by_code["隐私担忧"]
    assert (privacy.both, privacy.a_only, privacy.b_only, privacy.neither) == (1, 1, 1, 3)
    assert privacy.kappa == pytest.approx(0.25)
    assert res.disagreements[0] == (
        "2-1#1",
        {"lin": ["信息共享", "隐私担忧"], "zhou": ["信息共享"]},
    )
    assert res.disagreements[-1] == ("2-1#6", {"lin": ["技术赋能"], "zhou": []})
    out = res.to_json()
    assert out["decision_agreement"] == pytest.approx(15 / 18)
    assert out["percent_agreement"] == pytest.approx(3 / 6)  # units with the same set of codes
    json.dumps(out, allow_nan=False, ensure_ascii=False)


def test_numeric_file_interval_alpha() -> None:
    res = agreement_from_csv(DATA / "ratings_interval.csv", alpha_level="interval")
    rows = read_agreement_csv(DATA / "ratings_interval.csv")
    wide = rows.pivot(index="coder", columns="unit", values="code").astype(float)
    ref = krippendorff.alpha(reliability_data=wide.to_numpy(), level_of_measurement="interval")
    assert res.alpha.value == pytest.approx(ref, abs=1e-12)
    assert res.to_json()["alpha_level"] == "interval"
    ratio = agreement_from_csv(DATA / "ratings_interval.csv", alpha_level="ratio", bootstrap=0)
    ref_ratio = krippendorff.alpha(reliability_data=wide.to_numpy(), level_of_measurement="ratio")
    assert ratio.alpha.value == pytest.approx(ref_ratio, abs=1e-12)


def test_read_returns_long_table_with_rows() -> None:
    rows = read_agreement_csv(DATA / "multi_label.csv")
    assert list(rows.columns) == ["unit", "coder", "code", "row"]
    assert rows["row"].iloc[0] == 2
    empty = rows[rows["code"].isna()]
    assert set(empty["unit"]) == {"2-1#3", "2-1#6", "2-1#7"}


@pytest.mark.parametrize(
    ("name", "error", "fields"),
    [
        (
            "bad_missing_columns.csv",
            InvalidInput,
            {"reason": "agreement_missing_columns", "row": 1},
        ),
        ("bad_one_coder.csv", TooFewCoders, {"found": "1 (lin)"}),
        ("bad_empty.csv", InvalidInput, {"reason": "agreement_empty_file"}),
        ("bad_header_only.csv", InvalidInput, {"reason": "agreement_no_rows"}),
        ("bad_gbk.csv", InvalidInput, {"reason": "agreement_not_utf8"}),
        ("bad_empty_coder.csv", InvalidInput, {"reason": "agreement_empty_coder", "row": 3}),
    ],
)
def test_bad_files_raise_one_line_naming_the_file(
    name: str, error: type[GroundcodeError], fields: dict[str, object]
) -> None:
    path = DATA / name
    with pytest.raises(error) as info:
        agreement_from_csv(path)
    got = info.value.fields()
    assert got["file"] == str(path)
    assert {k: got[k] for k in fields} == fields
    for lang in ("en", "zh"):
        text = word(info.value, lang)
        assert text.startswith(str(path)) and "\n" not in text
    if name == "bad_missing_columns.csv":
        assert word(info.value, "en") == (
            f"{path}:1: missing column(s) coder, code (found: unit, rater, label)"
        )


def test_non_numeric_code_names_the_row() -> None:
    path = DATA / "bad_not_numeric.csv"
    with pytest.raises(InvalidInput) as info:
        agreement_from_csv(path, alpha_level="interval")
    assert (info.value.file, info.value.row, info.value.reason, info.value.detail) == (
        str(path),
        4,
        "agreement_not_number",
        "high",
    )
    # The same file is fine for nominal alpha.
    assert agreement_from_csv(path).n_units == 2


def test_missing_file_and_bad_level(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_agreement_csv(tmp_path / "nope.csv")
    with pytest.raises(BadOption) as bad:
        read_agreement_csv(DATA / "multi_label.csv", alpha_level="fuzzy")
    assert bad.value.option == "alpha_level" and bad.value.value == "fuzzy"
    with pytest.raises(InvalidInput) as info:
        read_agreement_csv(tmp_path)
    assert info.value.reason == "agreement_not_a_file"


def test_bom_and_case_insensitive_headers(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_bytes(
        "\ufeffUNIT, Coder ,CODE\n1,林,信息共享\n1,周,信息共享\n2,林,\n2,周,隐私\n".encode()
    )
    res = agreement_from_csv(path, bootstrap=0)
    assert res.coders == ("林", "周")
    assert res.n_units == 2
    assert res.disagreements == (("2", {"林": [], "周": ["隐私"]}),)


def test_large_file_skips_bootstrap_with_a_note(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 20_001
    lines = ["unit,coder,code"]
    labels = rng.integers(0, 3, size=(2, n))
    for c, coder in enumerate(("a", "b")):
        lines += [f"{u},{coder},k{labels[c, u]}" for u in range(n)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = agreement_from_csv(path)
    assert res.alpha.ci is None
    assert any("bootstrap CIs skipped for 20001 units" in n for n in res.notes_text)
