"""The suggestion model cache: kept with the project, owner-only, rebuilt when unreadable.

Real projects (SQLite file and PostgreSQL), real training, real files on disk.
"""

from __future__ import annotations

import pickle
import stat
from pathlib import Path

import pytest

from groundcode.project import Project
from groundcode.store.derived import DerivedFiles, folder_for
from tests.conftest import MakeProject

TOPICS = {
    "核酸": "今天又去做核酸，排队排了两个小时，采样点人很多。",
    "买菜": "小区团购买菜太难了，蔬菜总是抢不到，团长也很辛苦。",
    "疫苗": "预约了加强针疫苗，打完有点发烧，不过抗体应该有了。",
}


@pytest.fixture
def coded(make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Lin has coded twelve passages with three concepts; the user cache is a temp folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("lin")
    rows = [f"{text}第{i}次。" for i in range(4) for text in TOPICS.values()]
    (tmp_path / "c.csv").write_text("text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    lead.corpus.import_files([tmp_path / "c.csv"], type=4)
    lin = p.as_user("lin")
    concepts = list(TOPICS)
    for n in range(1, len(rows) + 1):
        lin.coding.apply(f"4-{n}", concepts[(n - 1) % 3], passage=1)
    return lin


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_suggest_model_is_kept_with_the_project_owner_only(coded: Project, tmp_path: Path) -> None:
    first = coded.analysis.suggest("4-1", passage=1)
    assert first and first[0]["concept"] == "核酸"
    folder = folder_for(coded.db.url)
    if coded.db.is_sqlite:
        # Beside the project file, named after it; nothing in the user's shared cache.
        assert folder == Path(str(coded.db.url.database) + ".cache")
        assert not list((tmp_path / "user-cache").rglob("suggest-*"))
    else:
        assert folder.is_relative_to(tmp_path / "user-cache" / "groundcode" / "projects")
    models = list(folder.glob("suggest-*.npz"))
    assert len(models) == 1
    assert _mode(folder) == 0o700 and _mode(models[0]) == 0o600
    assert not models[0].read_bytes().startswith(b"\x80")  # never a pickle


@pytest.mark.parametrize(
    "stale",
    [
        b"\x00\x01 not a model",
        pickle.dumps({"format": 1, "sklearn": "0.0"}),
        b"PK\x03\x04 truncated zip",
    ],
    ids=["garbage", "old-pickle", "truncated"],
)
def test_suggest_treats_a_stale_or_corrupt_cache_file_as_absent(
    coded: Project, make_project: MakeProject, stale: bytes
) -> None:
    expected = coded.analysis.suggest("4-2", passage=1)
    (model,) = DerivedFiles.of(coded.db).folder.glob("suggest-*.npz")
    model.write_bytes(stale)
    # A new session (no in-memory model) reads the file, refuses it and trains again.
    again = make_project(user="lin").analysis.suggest("4-2", passage=1)
    assert again == expected
    assert model.read_bytes() != stale and _mode(model) == 0o600


def test_suggest_makes_an_existing_cache_folder_owner_only(coded: Project) -> None:
    folder = folder_for(coded.db.url)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    coded.analysis.suggest("4-1", passage=1)
    assert _mode(folder) == 0o700
    assert all(_mode(f) == 0o600 for f in folder.iterdir())


def test_a_new_model_replaces_the_persons_older_one(coded: Project) -> None:
    """Codings or text changed (a redaction on another machine): the next suggestion trains
    a new model, and the old one, with the old vocabulary, is removed, not kept beside it."""
    coded.analysis.suggest("4-1", passage=1)
    folder = folder_for(coded.db.url)
    (old,) = folder.glob("suggest-*.npz")
    coded.coding.apply("4-4", "买菜", passage=1)
    coded.analysis.suggest("4-1", passage=1)
    (new,) = folder.glob("suggest-*.npz")
    assert new != old and not old.exists()
