"""`retold` as the command line runs it, with a test hook: ``RETOLD_TEST_PAUSE_IN_MERGE=MARKER:N`` pauses the Nth
merge of staged rows after its rows are written into the keyed tables (not yet committed), writes the number of
staged documents to MARKER, and waits until a file ``MARKER.go`` appears (or until killed). `COMMAND` runs it with
arguments appended (by path: the tests folder itself must not be on ``sys.path``, its ``io`` package would shadow the
standard library's)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retold.cli import main
from retold.store.sqlite import SqliteStore

COMMAND = [sys.executable, "-c", f"import runpy; runpy.run_path({__file__!r}, run_name='__main__')"]

_Keyed = Sequence[tuple[int, NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], float]]


def _install(marker: Path, at: int) -> None:
    merge, write_keyed = SqliteStore.merge, SqliteStore._write_keyed
    state = {"merging": False, "merges": 0}

    def in_merge(self: SqliteStore) -> None:
        state["merging"] = True
        state["merges"] += 1
        try:
            merge(self)
        finally:
            state["merging"] = False

    def keyed(self: SqliteStore, docs: _Keyed) -> None:
        write_keyed(self, docs)
        if state["merging"] and state["merges"] == at:
            tmp = Path(f"{marker}.tmp")
            tmp.write_text(str(self.staged_count()))
            tmp.replace(marker)  # whole when it appears
            go = Path(f"{marker}.go")
            deadline = time.monotonic() + 600
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.01)

    SqliteStore.merge = in_merge  # type: ignore[method-assign]
    SqliteStore._write_keyed = keyed  # type: ignore[method-assign]


if __name__ == "__main__":
    pause = os.environ.get("RETOLD_TEST_PAUSE_IN_MERGE")
    if pause:
        where, at = pause.rsplit(":", 1)
        _install(Path(where), int(at))
    main()
