"""The key-range comparison's arithmetic (edgesla.probes._pg_ranges): which chunks are read, which
keys count as divergent, which are left out as settling. Pure: no server."""

from __future__ import annotations

import pytest

from edgesla.probes._pg_ranges import (
    Digest,
    Divergence,
    Version,
    chunk_runs,
    compare_rows,
    differing_chunks,
)

OLD, NEW = False, True  # settling?


def test_equal_digests_read_nothing() -> None:
    sums = {0: Digest(1000, 17), 1: Digest(1000, -4), 2: Digest(3, 9)}
    assert differing_chunks(sums, dict(sums)) == []


def test_a_chunk_differs_by_count_or_by_hash_sum() -> None:
    a = {0: Digest(1000, 17), 1: Digest(1000, 5), 2: Digest(3, 9)}
    b = {0: Digest(1000, 17), 1: Digest(1000, 6), 2: Digest(4, 9)}
    assert differing_chunks(a, b) == [1, 2]


def test_a_chunk_on_one_node_only_differs_unless_it_is_empty() -> None:
    """A node without settled rows in a chunk has no group for it: the same as (0, 0)."""
    assert differing_chunks({0: Digest(1, 1), 4: Digest(2, 8)}, {0: Digest(1, 1)}) == [4]
    assert differing_chunks({0: Digest(1, 1), 4: Digest(0, 0)}, {0: Digest(1, 1)}) == []


def test_rows_on_one_node_and_different_rows_are_divergent() -> None:
    a = {"s1": Version("h1", OLD), "s2": Version("h2", OLD), "s3": Version("h3", OLD)}
    b = {"s1": Version("h1", OLD), "s3": Version("hX", OLD), "s4": Version("h4", OLD)}
    found = compare_rows(a, b)
    assert found == Divergence(only_a=("s2",), only_b=("s4",), different=("s3",), settling=0)
    assert found.count == 3
    assert found.examples("pg-a", "pg-b") == [
        "only on pg-a: s2",
        "only on pg-b: s4",
        "different: s3",
    ]
    many = compare_rows({i: Version("h", OLD) for i in range(5)}, {})
    assert many.examples(limit=2) == ["only on a: 0, 1, ..."]


def test_a_key_settling_on_either_node_is_left_out() -> None:
    """The newest write may still be on its way: settling on one side is enough."""
    a = {"s1": Version("h1", NEW), "s2": Version("h2", OLD), "s3": Version("h3", NEW)}
    b = {"s1": Version("hX", OLD), "s2": Version("hY", NEW), "s4": Version("h4", NEW)}
    found = compare_rows(a, b)
    assert found.count == 0
    assert found.settling == 4  # s1 (new on a), s2 (new on b), s3 (only on a, new), s4


def test_identical_rows_are_not_divergent() -> None:
    rows = {i: Version(f"h{i}", OLD) for i in range(100)}
    assert compare_rows(rows, dict(rows)) == Divergence()


def test_consecutive_chunks_merge_into_one_range() -> None:
    bounds = ["b", "d", "f", "h"]  # chunks 0..4
    assert chunk_runs([0, 1, 2, 4], bounds) == [(0, 2), (4, 4)]
    assert chunk_runs([3, 1, 1], bounds) == [(1, 1), (3, 3)]
    assert chunk_runs([], bounds) == []
    assert chunk_runs([0], []) == [(0, 0)]  # a table smaller than one chunk


def test_a_chunk_outside_the_bounds_is_a_bug_not_a_silent_skip() -> None:
    with pytest.raises(ValueError, match=r"chunk 5 outside 0\.\.4"):
        chunk_runs([5], ["b", "d", "f", "h"])
