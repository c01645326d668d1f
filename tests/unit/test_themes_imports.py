"""What the themes process imports: the memory target counts every module it holds
(scikit-learn's import alone is ~47 MB, the async engine and pydantic ~15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import missing

SERVER = Path(__file__).resolve().parents[2] / "server"


def test_the_themes_process_imports_no_more_than_it_uses():
    from plenary.themes import missing as themes_missing

    if themes_missing():
        missing("the themes extra (pip install '.[themes]')")
    # What worker.refresh and worker.embed import, in a fresh interpreter.
    code = (
        "import sys\n"
        "import plenary.themes.worker, plenary.themes.engine, plenary.themes.embedder\n"
        "import plenary.store.themes, plenary.store.database, plenary.domain.credentials\n"
        "print(','.join(sorted(m for m in ('sklearn', 'pydantic', 'sqlalchemy.ext.asyncio',"
        " 'greenlet', 'plenary.domain.template') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(SERVER)}, timeout=60)
    assert out.stdout.strip() == ""
