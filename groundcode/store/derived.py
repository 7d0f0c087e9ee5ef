"""Files derived from one project's data, kept with that project.

Suggestion models learn the vocabulary of coded passages, so they are
personal data as much as the passages are. They live in one folder per
project, never in a cache shared by every project of the user:

* a SQLite project ``study.db`` keeps them beside itself, in ``study.db.cache/``,
  so moving, backing up or deleting the project's folder takes them along;
* a PostgreSQL project (or an in-memory one) has no file of its own, so its
  folder is ``$XDG_CACHE_HOME/groundcode/projects/<key>/``, the key a hash of
  the server, port and database name (never the login or the password).

The folder is the owner's only (0700) and every file in it too (0600).
Everything here can be thrown away and rebuilt: a file that cannot be read or
written is treated as absent (a read-only project folder costs only time),
and ``purge`` (run by redaction) removes them all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from sqlalchemy.engine import URL

from groundcode.store.engine import Database, is_sqlite

FOLDER_SUFFIX = ".cache"
_DIR_MODE = 0o700
_FILE_MODE = 0o600


def user_cache_root() -> Path:
    """``$XDG_CACHE_HOME/groundcode`` (``~/.cache/groundcode``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "groundcode"


def folder_for(url: URL) -> Path:
    """Where the derived files of the project at ``url`` live (not created here)."""
    if is_sqlite(url) and url.database and url.database != ":memory:":
        file = Path(url.database)
        return file.with_name(file.name + FOLDER_SUFFIX)
    key = "\n".join(
        str(part or "") for part in (url.get_backend_name(), url.host, url.port, url.database)
    )
    if is_sqlite(url):
        # One in-memory database per process: key it to the process as well.
        key += f"\n{os.getpid()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return user_cache_root() / "projects" / digest


class DerivedFiles:
    """The project's folder of rebuildable files (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def of(cls, db: Database) -> DerivedFiles:
        return cls(folder_for(db.url))

    def _ensure(self) -> Path:
        self.folder.parent.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
        self.folder.mkdir(exist_ok=True, mode=_DIR_MODE)
        # mkdir's mode is filtered by the umask; an existing folder keeps its own.
        os.chmod(self.folder, _DIR_MODE)
        return self.folder

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when it is absent or cannot be read."""
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return None

    def write(self, name: str, data: bytes, *, replacing: str | None = None) -> Path | None:
        """Write atomically (temporary file, then rename), owner-only; None if it cannot be.

        ``replacing`` is a glob of older files this one supersedes: they are removed.
        """
        try:
            folder = self._ensure()
            target = folder / name
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, _FILE_MODE)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.chmod(tmp, _FILE_MODE)
                os.replace(tmp, target)
                for old in folder.glob(replacing) if replacing else ():
                    if old != target:
                        with contextlib.suppress(OSError):
                            old.unlink()
            except BaseException:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                raise
            return target
        except OSError:
            return None

    def files(self) -> list[Path]:
        try:
            return sorted(p for p in self.folder.iterdir() if p.is_file())
        except OSError:
            return []

    def purge(self) -> int:
        """Remove every derived file of the project (and the folder once empty)."""
        removed = 0
        for p in self.files():
            with contextlib.suppress(OSError):
                p.unlink()
                removed += 1
        with contextlib.suppress(OSError):
            self.folder.rmdir()
        return removed


def purge_legacy_user_cache() -> int:
    """Remove the model and dictionary files older versions kept in the user's cache.

    Those files were shared by every project of the user and cannot be told
    apart by project; nothing reads them any more, so they are only left-over
    copies of coded passages' vocabulary.
    """
    removed = 0
    root = user_cache_root()
    for pattern in ("suggest-*.model", "suggest-*.tmp", "userdict-*.txt"):
        for p in root.glob(pattern):
            with contextlib.suppress(OSError):
                p.unlink()
                removed += 1
    return removed


__all__ = ["DerivedFiles", "folder_for", "purge_legacy_user_cache", "user_cache_root"]
