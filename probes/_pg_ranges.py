"""The arithmetic of the key-range comparison: pure, no I/O (postgres_convergence does the I/O).

A table's primary keys are cut into chunks by ``bounds``, every ``chunk_rows``-th key of one
node in key order (what ``width_bucket(key, bounds)`` numbers): chunk 0 holds the keys below
``bounds[0]``, chunk ``i`` those from ``bounds[i - 1]`` up to ``bounds[i]`` (exclusive), the
last chunk those from ``bounds[-1]`` on. Every node sums, per chunk, a 64-bit hash of each
settled row (older than the settle time) and counts them: a ``Digest``. Chunks whose digests
differ between two nodes are read row by row (``Version``: the row's hash, and whether it is
still settling on that node), and the keys compared:

* a key on one node only, or with different hashes, is divergent;
* a key settling on either node is left out (its latest write may still be on its way), so a
  row updated a moment ago on one node and not yet applied on the other is not counted.

Digests only choose what to read: the count is decided row by row, so a chunk that differs
only because a row was settled on one node and settling on the other costs a read, never a
wrong count. The chunks are cut from one node's keys; another node with extra keys gets
bigger chunks, never wrong ones.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Digest", "Divergence", "Version", "chunk_runs", "compare_rows", "differing_chunks"]

Key = Hashable


@dataclass(frozen=True)
class Digest:
    """What one node holds of one chunk: settled rows, and the sum of their 64-bit hashes."""

    rows: int
    hash_sum: int


@dataclass(frozen=True)
class Version:
    """One row on one node: a hash of every column, and whether it is inside the settle time."""

    hash: str
    settling: bool


@dataclass(frozen=True)
class Divergence:
    """The keys two nodes disagree on (settling ones left out), in key order of node ``a``."""

    only_a: tuple[Key, ...] = ()
    only_b: tuple[Key, ...] = ()
    different: tuple[Key, ...] = ()
    settling: int = 0  #: keys left out because they are settling on either node

    @property
    def count(self) -> int:
        return len(self.only_a) + len(self.only_b) + len(self.different)

    def examples(self, a: str = "a", b: str = "b", limit: int = 3) -> list[str]:
        """A few keys for a human: what is where (``a``, ``b``: the nodes' names)."""
        groups = ((f"only on {a}", self.only_a), (f"only on {b}", self.only_b),
                  ("different", self.different))  # fmt: skip
        return [
            f"{what}: {', '.join(map(str, keys[:limit]))}{', ...' if len(keys) > limit else ''}"
            for what, keys in groups
            if keys
        ]


_EMPTY = Digest(0, 0)


def differing_chunks(a: Mapping[int, Digest], b: Mapping[int, Digest]) -> list[int]:
    """The chunk numbers whose digests differ (a chunk missing on one side is empty there)."""
    return sorted(c for c in a.keys() | b.keys() if a.get(c, _EMPTY) != b.get(c, _EMPTY))


def compare_rows(a: Mapping[Key, Version], b: Mapping[Key, Version]) -> Divergence:
    """Compare the rows of the differing chunks, read from both nodes."""
    only_a: list[Key] = []
    only_b: list[Key] = []
    different: list[Key] = []
    settling = 0
    for key, mine in a.items():
        theirs = b.get(key)
        if mine.settling or (theirs is not None and theirs.settling):
            settling += 1
        elif theirs is None:
            only_a.append(key)
        elif theirs.hash != mine.hash:
            different.append(key)
    for key, theirs in b.items():
        if key in a:
            continue
        if theirs.settling:
            settling += 1
        else:
            only_b.append(key)
    return Divergence(tuple(only_a), tuple(only_b), tuple(different), settling)


def chunk_runs(chunks: Sequence[int], bounds: Sequence[object]) -> list[tuple[int, int]]:
    """Consecutive chunk numbers merged into runs ``(first, last)``, for one key-range
    predicate each: ``[0, 1, 2, 7]`` → ``[(0, 2), (7, 7)]``. ``bounds`` only checks that every
    chunk exists (0 .. len(bounds))."""
    runs: list[tuple[int, int]] = []
    for chunk in sorted(set(chunks)):
        if not 0 <= chunk <= len(bounds):
            raise ValueError(f"chunk {chunk} outside 0..{len(bounds)}")
        if runs and runs[-1][1] == chunk - 1:
            runs[-1] = (runs[-1][0], chunk)
        else:
            runs.append((chunk, chunk))
    return runs
