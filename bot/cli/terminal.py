"""What every command shares: the Typer app, one-line errors with exit codes, settings read
with their problems named, progress bars, and the engine opened with one."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from bot.errors import ProcurebotError, QuestionError
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.answering.engine import Engine

logger = logging.getLogger("bot.cli")

app = typer.Typer(
    help="Cited answers about an AI vendor's models, from the documents in corpus/.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@contextmanager
def people_errors() -> Iterator[None]:
    """Turn every failure into one line on stderr and an exit code; details go to the log."""
    from pydantic import ValidationError

    try:
        yield
    except QuestionError as exc:
        typer.echo(f"procurebot: error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except ProcurebotError as exc:
        logger.info("failed: %s", exc, exc_info=True)
        typer.echo(f"procurebot: error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except ValidationError as exc:
        problems = "; ".join(_setting_problem(error) for error in exc.errors())
        typer.echo(f"procurebot: error: invalid setting: {problems}", err=True)
        raise typer.Exit(2) from exc
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # the last boundary: the log keeps the traceback, the user a line
        logger.exception("unexpected failure")
        typer.echo(
            f"procurebot: error: unexpected failure ({type(exc).__name__}: {exc}); "
            "the traceback is in procurebot.log in the data folder.",
            err=True,
        )
        raise typer.Exit(1) from exc


def _setting_problem(error: Any) -> str:
    """'PROCUREBOT_TOP_K: Input should be ...'; a setting with a standard name (CHROMA_URL) is
    named so, and a problem of several settings together is its message alone."""
    message = str(error["msg"]).removeprefix("Value error, ")
    name = "_".join(map(str, error["loc"]))
    if not name:
        return message
    return f"{name if name.isupper() else 'PROCUREBOT_' + name.upper()}: {message}"


def read_settings(**overrides: Any) -> Settings:
    with people_errors():
        return Settings(**overrides)


def progress_bar(description: str, unit: str = "chunk") -> Callable[[int, int], None]:
    """A progress callback that draws a bar on a terminal once there is work to show."""
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total == 0:
            return
        if "bar" not in bar:
            bar["bar"] = tqdm(
                total=total,
                desc=description,
                unit=unit,
                file=sys.stderr,
                disable=None,
                leave=False,
            )
        bar["bar"].n = done
        bar["bar"].refresh()
        if done >= total:
            bar["bar"].close()

    return update


def open_engine(settings: Settings) -> Engine:
    from bot.answering.engine import Engine

    return Engine.open(settings, progress_bar("Building the index (first use)"))
