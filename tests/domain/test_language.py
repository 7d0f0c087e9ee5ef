"""The CLI's language rule and the wording of typed errors by each front end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundcode.cli.common import cli_words
from groundcode.domain.errors import AlreadyExists, BadOption, NeedsActor, StillCoded
from groundcode.domain.language import cli_language
from groundcode.domain.wording import word
from groundcode.tui.i18n import one_line, set_language


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("GROUNDCODE_LANG", "LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path


def test_rule_in_order(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli_language("lin") == "zh"  # nothing said: Chinese
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert cli_language("lin") == "en"
    prefs = home / "groundcode" / "ui.json"
    prefs.parent.mkdir(parents=True)
    prefs.write_text(json.dumps({"lin": "zh"}), encoding="utf-8")
    assert cli_language("lin") == "zh"  # the TUI's choice beats LANG
    assert cli_language("chen") == "en"  # another user has no choice remembered
    monkeypatch.setenv("GROUNDCODE_LANG", "en")
    assert cli_language("lin") == "en"  # the variable beats everything


def test_each_front_end_spells_its_own_options(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDCODE_LANG", "en")
    err = AlreadyExists(path="out.xlsx")
    assert cli_words(err) == "out.xlsx exists; use --force to overwrite"
    set_language("en")
    assert "--" not in one_line(err) and "Overwrite existing files" in one_line(err)
    set_language("zh")
    try:
        assert one_line(err) == "out.xlsx 已存在；要覆盖请用 开关「覆盖已有文件」"
    finally:
        set_language("zh")
    assert "--as" in cli_words(NeedsActor())
    opt = BadOption(option="stratify_by", value="x", allowed="views")
    assert cli_words(opt).startswith("--stratify-by: x")


def test_fields_that_name_catalog_words_are_worded() -> None:
    err = StillCoded(level="main_category", name="危害性", n_codings=2)
    assert word(err, "en").startswith("main category '危害性' is not deleted")
    assert word(err, "zh").startswith("主范畴“危害性”未删除")
    assert err.key == "StillCoded"
    assert StillCoded(level="concept", name="x", n_codings=1).key == "StillCoded.concept"
