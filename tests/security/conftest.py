"""Fixtures of the security tests: a team-mode PostgreSQL project and the in-process CLI."""

from tests.cli.conftest import run_cli
from tests.team import team

__all__ = ["run_cli", "team"]
