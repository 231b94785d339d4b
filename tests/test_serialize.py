"""Atomic writes: a killed writer's temporary file is cleaned up by the next write, a live one is not."""

from __future__ import annotations

import os
import time

from kg.serialize import STALE_AFTER_S, write_atomic


def test_abandoned_temporaries_are_removed_and_fresh_ones_kept(tmp_path):
    target = tmp_path / "graph.ttl"
    old = tmp_path / ".graph.ttl.abc123.tmp"
    fresh = tmp_path / ".graph.ttl.def456.tmp"
    old.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    past = time.time() - STALE_AFTER_S - 60
    os.utime(old, (past, past))
    write_atomic(target, b"data")
    assert target.read_bytes() == b"data"
    assert not old.exists()
    assert fresh.exists()
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)
