"""Formula neutralising and all-or-nothing output (SPEC §6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundcode.domain.errors import AlreadyExists, InvalidInput
from groundcode.exports.safety import TRIGGERS, atomic_output, neutralise


@pytest.mark.parametrize(
    "raw", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("x")']
)
def test_formula_starts_get_an_apostrophe(raw: str) -> None:
    assert neutralise(raw) == "'" + raw


@pytest.mark.parametrize("raw", ["-5", "+3.5", "-1e3", ".5", "-0.25"])
def test_plain_numbers_as_text_stay(raw: str) -> None:
    assert neutralise(raw) == raw


@pytest.mark.parametrize("raw", [-5, 3.5, None, True, "", "普通文本", "a=b", " =x", "'=already"])
def test_other_values_unchanged(raw: object) -> None:
    assert neutralise(raw) == raw


@given(st.text())
def test_neutralised_text_never_starts_a_formula(text: str) -> None:
    out = neutralise(text)
    assert isinstance(out, str)
    assert out in (text, "'" + text)
    if out == text and text.startswith(TRIGGERS):
        float(text)  # only plain numbers are let through


def test_atomic_output_writes_on_success(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "dir" / "out.txt"
    with atomic_output(target, force=False) as tmp:
        assert tmp.parent == target.parent
        assert tmp.suffix == ".txt"
        tmp.write_text("done", encoding="utf-8")
        assert not target.exists()
    assert target.read_text(encoding="utf-8") == "done"
    assert list(target.parent.iterdir()) == [target]


def test_atomic_output_refuses_existing_without_force(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with (
        pytest.raises(AlreadyExists),
        atomic_output(target, force=False) as tmp,
    ):
        tmp.write_text("new", encoding="utf-8")  # pragma: no cover - never reached
    assert target.read_text(encoding="utf-8") == "old"
    with atomic_output(target, force=True) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_output_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_output(target, force=False) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("writer broke")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_output(target, force=True) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("writer broke")
    assert target.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_output_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a folder"), atomic_output(tmp_path, force=True):
        pass  # pragma: no cover
