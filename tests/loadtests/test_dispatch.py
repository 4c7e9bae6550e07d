"""The users of a class as a pool (edgesla.loadtests.dispatch): a free user gets the earliest
arrival due in any share, each arrival is handed out once, and the shares' ledgers still
count every one."""

from __future__ import annotations

from edgesla.loadtests.dispatch import Pool
from edgesla.loadtests.ledger import Share, ShareKey, planned_requests

RATES = {"acct_interim": 100.0, "auth_lookup": 20.0}


def _rates(t: float) -> dict[str, float]:
    return dict(RATES)


def _shares(n: int) -> list[Share]:
    return [
        Share(ShareKey("RadiusUser", 0, i), 1000 + i, _rates, tuple(RATES), n, 5.0, "poisson")
        for i in range(n)
    ]


def test_arrivals_come_out_in_time_order_across_shares_each_once() -> None:
    shares = _shares(4)
    pool = Pool()
    for share in shares:
        pool.add(share)
    handed = []
    while (taken := pool.take()) is not None:
        share, token, arrival = taken
        handed.append((arrival.at, share.key.ordinal, token))
        assert share.start(token, arrival.at, actual=arrival.at)
        assert share.finish(token)
    times = [at for at, _, _ in handed]
    assert times == sorted(times)
    assert len(set(handed)) == len(handed)
    for share in shares:
        regenerated = planned_requests(_rates, tuple(RATES), 4, 5.0, "poisson", share.seed)
        assert share.planned == regenerated  # the master can still check every share
        assert share.close(5.1, "unused") == []
    assert len(handed) == sum(sum(s.planned.values()) for s in shares)


def test_a_share_closed_elsewhere_drops_out_of_the_pool() -> None:
    first, second = _shares(2)
    pool = Pool()
    pool.add(first)
    pool.add(second)
    first.close(0.0, "the user could not connect")
    served = set()
    while (taken := pool.take()) is not None:
        served.add(taken[0].key)
        taken[0].start(taken[1], taken[2].at, actual=0.0)
    assert served == {second.key}


def test_an_empty_pool_has_nothing_to_hand_out() -> None:
    assert Pool().take() is None
