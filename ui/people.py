"""Who is asking (from Gradio's login) and how failures are shown to them."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from bot.errors import DocumentError, ProcurebotError, QuestionError
from bot.questionnaires.types import QuestionnaireError
from bot.transcripts.store import InvalidVerdict, TranscriptNotFound
from bot.workspace.access import LOCAL, AccessError, Directory, NotAllowed, User
from bot.workspace.service import Workspace

logger = logging.getLogger(__name__)

# Mistakes people can correct themselves: shown without a traceback in the log.
ERROR_SECONDS = 12  # how long a message about a mistake stays on the page
EXPECTED = (
    QuestionError,
    AccessError,
    TranscriptNotFound,
    InvalidVerdict,
    DocumentError,
    QuestionnaireError,
)


@dataclass(frozen=True)
class Context:
    """What every handler needs: the workspace, and the users file when login is on."""

    workspace: Workspace
    directory: Directory | None = None

    def user(self, request: Any) -> User:
        if self.directory is None:
            return LOCAL
        name = getattr(request, "username", None)
        if not name:
            raise NotAllowed("Log in to use procurebot.")
        return self.directory.user(str(name))


def scratch_folder(prefix: str) -> Path:
    """A fresh folder for one download; Gradio copies the file into its own cache."""
    return Path(tempfile.mkdtemp(prefix=f"procurebot-{prefix}-"))


@contextmanager
def shown_errors() -> Iterator[None]:
    """Turn procurebot's errors into the one-line message Gradio shows in the page."""
    try:
        yield
    except EXPECTED as exc:
        # A mistake to correct: no traceback in the log, and the toast goes once read.
        raise gr.Error(str(exc), duration=ERROR_SECONDS, print_exception=False) from exc
    except ProcurebotError as exc:
        logger.exception("the web app's request failed")
        raise gr.Error(str(exc)) from exc
