"""Running the real CLI in-process: exit code, stdout and stderr."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest

from groundcode.cli import main


class CliResult(NamedTuple):
    """Exit code, stdout and stderr; a tuple, so callers may unpack it."""

    code: int
    out: str
    err: str


RunCli = Callable[..., CliResult]


def cli_call(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """One in-process CLI call, its output captured apart from anything printed before it."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    def _run(*args: str) -> CliResult:
        return cli_call(capsys, *args)

    return _run
