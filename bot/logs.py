"""Logging: one line per event on the terminal, the full story (tracebacks too) in a log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


class _OneLine(logging.Formatter):
    """Message only, never a traceback: the terminal is for people, the file for debugging."""

    def format(self, record: logging.LogRecord) -> str:
        return f"procurebot: {record.levelname.lower()}: {record.getMessage()}"


def setup_logging(data_dir: Path, verbose: bool = False) -> Path | None:
    """Log INFO and up to data_dir/procurebot.log, WARNING (INFO if verbose) to stderr.

    Returns the log file's path, or None when the data folder cannot be written.
    """
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(_OneLine())
    # A record with a traceback is for the log file; the code that logged it tells the user.
    console.addFilter(lambda record: record.exc_info is None)
    root.addHandler(console)
    for noisy in ("httpx", "chromadb", "gradio", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    path = data_dir / "procurebot.log"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(file_handler)
    return path
