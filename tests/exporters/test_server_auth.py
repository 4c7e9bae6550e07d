"""Basic auth of the real `edgesla exporter`: the credential cache, the dummy hash, the bound.

Behaviour is read from the exporter's own counters (edgesla_exporter_auth_requests_total by
result, edgesla_exporter_auth_bcrypt_checks_total), never from timings.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import bcrypt
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from edgesla import conventions as conv
from tests.exporters.exporter_process import Running, exporter

pytestmark = pytest.mark.slow

GOOD = ("prom", "s3cret")


def _web_config(tmp_path: Path, rounds: int = 4) -> Path:
    hashed = bcrypt.hashpw(GOOD[1].encode(), bcrypt.gensalt(rounds=rounds)).decode()
    other = bcrypt.hashpw(b"other-pass", bcrypt.gensalt(rounds=rounds)).decode()
    path = tmp_path / "web.yml"
    path.write_text(f"basic_auth_users:\n  prom: '{hashed}'\n  grafana: '{other}'\n")
    return path


def _counts(running: Running) -> dict[str, float]:
    """The auth counters, read with the good (by then cached) credential: that read counts."""
    reply = requests.get(f"http://127.0.0.1:{running.port}/metrics", auth=GOOD, timeout=10)
    assert reply.status_code == 200, reply.text
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            if sample.name == conv.EXPORTER_AUTH_REQUESTS_TOTAL:
                counts[sample.labels["result"]] = sample.value
            elif sample.name == conv.EXPORTER_AUTH_BCRYPT_CHECKS_TOTAL:
                counts["bcrypt"] = sample.value
    return counts


def _get(running: Running, auth: tuple[str, str] | None, path: str = "/metrics") -> int:
    url = f"http://127.0.0.1:{running.port}{path}"
    return requests.get(url, auth=auth, timeout=10).status_code


def test_a_verified_credential_is_cached_and_later_scrapes_run_no_bcrypt(tmp_path: Path) -> None:
    with exporter(tmp_path, "--web-config", str(_web_config(tmp_path))) as running:
        assert [_get(running, GOOD) for _ in range(6)] == [200] * 6
        counts = _counts(running)
        assert counts["bcrypt"] == 1  # the first request only
        assert counts["verified"] == 1
        assert counts["cached"] == 6  # five more, and the read of the counters itself
        assert counts["denied"] == counts["busy"] == 0


def test_wrong_and_unknown_credentials_each_run_one_bcrypt_check_and_are_never_cached(
    tmp_path: Path,
) -> None:
    """An unknown user costs the same bcrypt check as a known user's wrong password."""
    with exporter(tmp_path, "--web-config", str(_web_config(tmp_path))) as running:
        assert _get(running, GOOD) == 200  # cached from now on
        before = _counts(running)
        assert _get(running, ("prom", "wrong")) == 401
        assert _get(running, ("prom", "wrong")) == 401  # again: not cached, checked again
        assert _get(running, ("nobody", "s3cret")) == 401  # unknown user: the dummy hash
        assert _get(running, ("nobody", "s3cret")) == 401
        assert _get(running, ("grafana", GOOD[1])) == 401  # another user's password
        after = _counts(running)
        assert after["bcrypt"] - before["bcrypt"] == 5
        assert after["denied"] - before["denied"] == 5
        assert after["verified"] == before["verified"] == 1
        assert _get(running, None) == 401  # no credentials: nothing to hash
        assert _get(running, ("prom", "")) == 401
        assert _get(running, ("prom", "s3cret" * 20)) == 401  # over bcrypt's 72 bytes
        last = _counts(running)
        assert last["bcrypt"] - after["bcrypt"] == 2  # the empty and the long password
        assert _get(running, None, "/-/healthy") == 200  # health paths ask for nothing


def test_a_flood_of_wrong_passwords_is_refused_with_429_and_cached_scrapes_go_through(
    tmp_path: Path,
) -> None:
    """24 clients send wrong passwords as fast as they can (cost-10 hashes, ~50 ms each).

    At most one hash runs and three wait; the rest are refused with 429 at once, so the flood
    holds no worker for long, and the good credential, cached, never waits for a hash.
    """
    web = _web_config(tmp_path, rounds=10)
    with exporter(tmp_path, "--web-config", str(web)) as running:
        assert _get(running, GOOD) == 200
        stop = threading.Event()
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def flood(n: int) -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    url = f"http://127.0.0.1:{running.port}/metrics"
                    code = session.get(url, auth=("prom", f"guess-{n}"), timeout=30).status_code
                    with lock:
                        statuses[code] += 1

        threads = [threading.Thread(target=flood, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(0.5)
            good = [_get(running, GOOD) for _ in range(10)]
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert good == [200] * 10
        assert set(statuses) <= {401, 429}, statuses
        assert statuses[429] > 0, statuses
        counts = _counts(running)
        assert counts["busy"] == statuses[429]
        assert counts["verified"] == 1
        assert counts["cached"] == 11


def test_a_429_says_when_to_retry(tmp_path: Path) -> None:
    """The 429 carries Retry-After, read from a flood like the one above."""
    web = _web_config(tmp_path, rounds=10)
    with exporter(tmp_path, "--web-config", str(web)) as running:
        seen: list[requests.Response] = []
        lock = threading.Lock()

        def one() -> None:
            url = f"http://127.0.0.1:{running.port}/metrics"
            reply = requests.get(url, auth=("prom", "nope"), timeout=30)
            with lock:
                seen.append(reply)

        threads = [threading.Thread(target=one) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        busy = [r for r in seen if r.status_code == 429]
        assert busy, [r.status_code for r in seen]
        assert busy[0].headers["Retry-After"] == "1"
        assert "too many credential checks" in busy[0].text
        assert "Traceback" not in running.log_text()
