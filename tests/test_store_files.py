"""The private parts of chromadb that `index.store_files.forget` changes are still where it
expects them: an upgrade of chromadb that removes or renames them fails here, by name, rather
than as a store that is silently read as it was before it was moved aside or rebuilt."""

from __future__ import annotations

from pathlib import Path

import chromadb
from chromadb.api.shared_system_client import SharedSystemClient

from index.chroma import client
from index.location import ChromaFolder
from index.store_files import CHROMA_REGISTRIES, forget

UPGRADE = (
    "index.store_files.forget relies on it to drop the instance Chroma keeps for one store's "
    "folder; find where this chromadb keeps its instances by folder and update forget "
    "(and CHROMA_REGISTRIES), or pin the chromadb version it was written for"
)


def test_chromadb_still_has_the_registries_forget_changes() -> None:
    missing = [
        name
        for name in CHROMA_REGISTRIES
        if not isinstance(getattr(SharedSystemClient, name, None), dict)
    ]
    assert not missing, (
        f"chromadb {chromadb.__version__} has no dict SharedSystemClient."
        f"{', SharedSystemClient.'.join(missing)}: {UPGRADE}"
    )


def test_forget_drops_the_instance_chromadb_keeps_for_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "chroma"
    client(ChromaFolder(folder))
    registries = {name: getattr(SharedSystemClient, name) for name in CHROMA_REGISTRIES}
    absent = [name for name, registry in registries.items() if str(folder) not in registry]
    assert not absent, (
        f"chromadb {chromadb.__version__} keeps no entry for the folder {folder} in "
        f"SharedSystemClient.{', SharedSystemClient.'.join(absent)}: {UPGRADE}"
    )
    forget(folder)
    kept = [name for name, registry in registries.items() if str(folder) in registry]
    assert not kept, f"forget left the folder in SharedSystemClient.{', '.join(kept)}"
