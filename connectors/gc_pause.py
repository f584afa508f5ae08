"""Python's cyclic garbage collector, paused around bulk work that allocates many objects and no cycles.

Building a sandbox world or reading a batch of landed files allocates hundreds of thousands of containers
(payloads, models, rows) that reference counting frees or that all live on; the cyclic collector would walk
the growing heap again and again for nothing (a fifth to a third of the CPU at 100k rows).
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block, then leave it as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
