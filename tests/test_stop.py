"""`retold.stop`: a Ctrl-C or SIGTERM whose exception Python dropped (inside a ctypes callback, e.g. while numba
compiles) still stops the run at the next batch, with the committed batches kept."""

from __future__ import annotations

import signal

import pytest

from retold import stop
from retold.config import AlignConfig, RetoldConfig
from retold.model import Document
from retold.pipeline import index_documents
from retold.store.base import MemoryStore


def test_check_raises_what_was_requested() -> None:
    stop.clear()
    stop.check()  # nothing asked: nothing raised
    stop.request(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt) as info:
        stop.check()
    assert not isinstance(info.value, stop.Terminated)
    stop.request(signal.SIGTERM)
    with pytest.raises(stop.Terminated):
        stop.check()
    stop.clear()
    assert stop.requested() is None


def test_a_dropped_interrupt_stops_the_run_at_the_next_batch() -> None:
    docs = [
        Document(f"d{i}", f"Story number {i} about the harbour budget and the council vote today.") for i in range(40)
    ]
    store = MemoryStore()
    batches: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "index" and done:
            batches.append(done)
            if len(batches) == 2:
                stop.request(signal.SIGINT)  # as the CLI's handler does, its exception lost on the way

    try:
        with pytest.raises(KeyboardInterrupt):
            index_documents(
                store, docs, RetoldConfig(align=AlignConfig(semantic="off")), batch_size=5, progress=progress
            )
    finally:
        stop.clear()
    assert 10 <= store.count() < 40  # the committed batches are kept; the run did not go on to the end
