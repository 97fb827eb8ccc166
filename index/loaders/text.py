"""Plain text and Markdown: the file's own text, decoded from UTF-8 and nothing else changed.

So a citation's span `[start:end]` is a span of the file as a reader opens it. HTML pages are
decoded here too, before their text is extracted (`index.loaders.html`).
"""

from __future__ import annotations

from pathlib import Path

from index.errors import DocumentError
from index.loaders.loaded import Loaded

SUFFIXES = frozenset({".txt", ".md", ".markdown", ".mdx"})


def load(path: Path, data: bytes) -> Loaded:
    """The file's text as it is."""
    return Loaded(decode(path, data))


def decode(path: Path, data: bytes) -> str:
    """The bytes as UTF-8 text; DocumentError for binary data or another encoding."""
    if b"\x00" in data:
        raise DocumentError(path.name, "binary data in a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            path.name, f"not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8"
        ) from exc
