"""The files of a Chroma store kept in a folder on this machine: checked, explained, moved aside.

Chroma's failures on its folder become StoreError messages that say what to do. A store
another program holds locked (StoreLocked) is reported after a short wait, because Chroma
itself would wait forever. A garbled vector-index file is found before Chroma opens it, as
Chroma's native code crashes the process on it. A damaged store is moved aside by
`procurebot index --rebuild`, never deleted.

None of this applies to a Chroma server: its files are the server's. The module imports
chromadb (its errors, and the registry of open stores that `forget` clears) only inside the
functions that need it; `index.chroma` remains the only module that opens a store.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.errors import StoreDamaged, StoreError, StoreLocked

logger = logging.getLogger(__name__)

DATABASE = "chroma.sqlite3"
LOCK_WAIT_SECONDS = 5.0  # how long a lock held by another program is waited for
REBUILD = "run `procurebot index --rebuild` to rebuild it from the documents"
# The private class attributes of chromadb's SharedSystemClient that `forget` changes: its
# instances by folder, and how many clients use each.
CHROMA_REGISTRIES = ("_identifier_to_refcount", "_identifier_to_system")


def move_aside(path: Path, problem: StoreDamaged) -> Path:
    """Rename a damaged store to `<path>.damaged-<UTC time>`; where it went."""
    forget(path)
    aside = path.with_name(f"{path.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    path.rename(aside)
    logger.info("moved the damaged index %s aside to %s (%s)", path, aside, problem)
    return aside


def forget(path: Path) -> None:
    """Drop Chroma's instance for `path`, kept for the life of the process, so that the next
    client opens the files now there (the old one closes when no collection refers to it).

    This is the one place procurebot changes chromadb's private state, and why: chromadb keeps
    one instance (its database and vector indexes) per folder in class attributes of its
    SharedSystemClient (CHROMA_REGISTRIES), and every new client of that folder reuses it, so
    a store moved aside, or rebuilt by another process, would be read as it was. chromadb's
    public `SharedSystemClient.clear_system_cache()` drops the instances of every folder,
    those of other stores open in this process too; nothing public drops one folder's.
    tests/test_store_files.py fails, naming the chromadb version, if an upgrade removes or
    renames these attributes.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    for registry in CHROMA_REGISTRIES:
        getattr(SharedSystemClient, registry).pop(str(path), None)


def check_files(path: Path) -> None:
    """What Chroma would wait forever on or crash on, found before it opens the store."""
    check_database(path, missing_ok=True)
    for header in sorted(path.glob("*/header.bin")):
        problem = _vector_index_problem(header.parent)
        if problem:
            raise StoreDamaged(f"The index at {path} is damaged ({problem}): {REBUILD}.")


def check_database(path: Path, *, missing_ok: bool) -> None:
    """StoreLocked when another program holds the database locked for longer than a moment."""
    database = path / DATABASE
    if missing_ok and not database.exists():
        return
    try:
        db = sqlite3.connect(
            f"file:{database}?mode=rw", uri=True, timeout=LOCK_WAIT_SECONDS, isolation_level=None
        )
    except sqlite3.OperationalError as exc:
        raise translate(path, exc) from exc
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):  # a read-only store can still be read
            raise translate(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        raise translate(path, exc) from exc
    finally:
        db.close()


@contextmanager
def translated(path: Path, *, opening: bool = False) -> Iterator[None]:
    """Chroma's and SQLite's failures on the folder, as StoreError messages."""
    from chromadb.errors import ChromaError

    try:
        yield
    except (ChromaError, sqlite3.Error) as exc:
        raise translate(path, exc) from exc
    except (ValueError, RuntimeError, OSError) as exc:
        if not opening:
            raise
        raise translate(path, exc, opening=True) from exc


def translate(path: Path, exc: Exception, *, opening: bool = False) -> StoreError:
    text = str(exc)
    reason = _reason(text)
    if "locked" in text or "busy" in text:
        return StoreLocked(
            f"The index at {path} is locked by another program ({reason}): close that program "
            "or wait until it is done, then try again."
        )
    if not opening and not (path / DATABASE).exists():
        return StoreDamaged(
            f"The index at {path} was removed while procurebot was running: restart procurebot "
            "to build it again from the documents."
        )
    if isinstance(exc, PermissionError) or any(
        words in text for words in ("readonly", "read-only", "unable to open")
    ):
        return StoreError(
            f"The index at {path} cannot be written ({reason}): make the folder writable by "
            "this user, or set PROCUREBOT_DATA_DIR to a writable folder."
        )
    return StoreDamaged(f"The index at {path} is damaged ({reason}): {REBUILD}.")


def _reason(text: str) -> str:
    """The last clause of a chained message, without SQLite's code: 'file is not a database'."""
    text = re.sub(r"\(code: \d+\)\s*", "", " ".join(text.split()))
    return text.rsplit(": ", 1)[-1].strip() or text


# header.bin of an HNSW index as Chroma 1.5 writes it: format version, offset of level 0,
# capacity, element count, bytes per element, label offset, vector offset, top level,
# entry point, maxM, maxM0, M, level multiplier, ef_construction.
_HEADER = struct.Struct("<i6QiI3QdQ")


def _vector_index_problem(folder: Path) -> str:
    """What is wrong in one HNSW segment folder, or "": the link counts and targets are checked,
    as native code follows them unchecked."""
    import numpy as np

    raw = (folder / "header.bin").read_bytes()
    if len(raw) != _HEADER.size:
        return f"{folder.name}/header.bin has {len(raw)} bytes, not {_HEADER.size}"
    version, _, capacity, count, size, label, offset, top, entry, max_m, max_m0, *_ = (
        _HEADER.unpack(raw)
    )
    if version != 1:  # not a format this check knows: Chroma's own checks apply
        return ""
    if not (
        count <= capacity
        and offset == 4 + 4 * max_m0
        and label + 8 == size
        and 0 < max_m <= max_m0 <= 4096
        and -1 <= top <= 64
        and (entry < count or count == 0)
    ):
        return f"{folder.name}/header.bin does not describe an HNSW index"
    if count == 0:
        return ""
    files = {name: folder / name for name in ("data_level0.bin", "length.bin", "link_lists.bin")}
    for name, file in files.items():
        if not file.exists():
            return f"{folder.name}/{name} is missing"
    level0 = np.fromfile(files["data_level0.bin"], dtype=np.uint8)
    if level0.size < count * size:
        return f"{folder.name}/data_level0.bin is truncated"
    rows = level0[: count * size].reshape(count, size)
    links = rows[:, :offset].copy().view(np.uint32)  # [count | flags, link...]
    if _bad_links(links, max_m0, count):
        return f"{folder.name}/data_level0.bin links to elements that do not exist"
    upper = _upper_links(np.fromfile(files["link_lists.bin"], dtype=np.uint32), count, max_m)
    if upper is None or _bad_links(upper, max_m, count):
        return f"{folder.name}/link_lists.bin is garbled"
    return ""


def _upper_links(raw: Any, count: int, max_m: int) -> Any:
    """link_lists.bin (per element: its byte size, then its upper-level link lists) as rows
    of one list each; None when the sizes do not add up."""
    import numpy as np

    row = max_m + 1
    rows, position = [], 0
    for _ in range(count):
        if position >= raw.size or int(raw[position]) % (4 * row):
            return None
        size = int(raw[position]) // 4
        rows.append(raw[position + 1 : position + 1 + size])
        position += 1 + size
    if position != raw.size:
        return None
    return np.concatenate(rows).reshape(-1, row) if rows else np.zeros((0, row), np.uint32)


def _bad_links(lists: Any, most: int, count: int) -> bool:
    """Whether any link list (row: its size in the low 16 bits, then the links) is garbled."""
    import numpy as np

    sizes = (lists[:, 0] & 0xFFFF).astype(np.int64)
    if (sizes > most).any():
        return True
    used = np.arange(lists.shape[1] - 1)[None, :] < sizes[:, None]
    return bool((lists[:, 1:][used] >= count).any())
