"""The users of one class in one process as a pool: a free user serves the next arrival due
in any of their shares of the schedule.

    pool = Pool()
    pool.add(share)                 # each user's own share, as it starts
    share, token, arrival = pool.take()

Each user still owns one share (``ledger.Share``: 1/U of the class's rate, its arrivals
counted there and regenerable by the master), but the shares of a process are served by
whichever user is free (k6's arrival-rate executors work this way): a slow response delays
the next request only when every user of the class is busy (an M/G/N queue, not N M/G/1
ones). Without it, at 10 requests/s per user and a 6-ms service time about 5 % of the
requests started late (> 5 ms) behind their own user's previous one.

The earliest arrival is found with a heap of the shares' next due times: O(log shares) per
request. Used from gevent greenlets of one process: no locks (no method yields).
"""

from __future__ import annotations

import heapq
import itertools

from edgesla.loadtests.ledger import Share
from edgesla.loadtests.openmodel import Arrival

__all__ = ["Pool"]


class Pool:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Share]] = []
        self._order = itertools.count()  # ties: the share added first

    def add(self, share: Share) -> None:
        if (at := share.peek()) is not None:
            heapq.heappush(self._heap, (at, next(self._order), share))

    def take(self) -> tuple[Share, int, Arrival] | None:
        """The earliest arrival not handed out yet, of any share; None when none is left."""
        while self._heap:
            at, order, share = self._heap[0]
            due = share.peek()  # a share closed (or taken from) elsewhere: its due time moved
            if due is None:
                heapq.heappop(self._heap)
                continue
            if due != at:
                heapq.heapreplace(self._heap, (due, order, share))
                continue
            taken = share.take()
            if taken is None:  # pragma: no cover - peek() just said there is one
                heapq.heappop(self._heap)
                continue
            if (following := share.peek()) is None:
                heapq.heappop(self._heap)
            else:
                heapq.heapreplace(self._heap, (following, order, share))
            return share, taken[0], taken[1]
        return None
