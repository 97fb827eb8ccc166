"""The `procurebot` command: index the corpus, ask questions, serve the web chat.

Exit codes: 0 done; 1 something failed (the message says what to do); 2 bad input or usage.
Heavy libraries are imported inside the commands, so `procurebot --help` answers at once.
Each module registers its commands on the one Typer app (`bot.cli.terminal.app`).
"""

from bot.cli import asking, evaluating, records, serving
from bot.cli.terminal import app

__all__ = ["app", "asking", "evaluating", "main", "records", "serving"]


def main() -> None:
    """Console entry point."""
    app()
