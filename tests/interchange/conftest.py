"""The CLI runner of tests/cli, for the import-qdpx command tests here."""

from tests.cli.conftest import run_cli

__all__ = ["run_cli"]
