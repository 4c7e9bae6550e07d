"""Basic auth against bcrypt hashes, as exporter-toolkit does it (web/handler.go), and tighter.

- **Cache of verified credentials.** After one bcrypt check, the same user and password pass
  with a keyed hash (HMAC-SHA256, a random key per process) and a dict look-up: microseconds
  instead of ~0.2 s at cost 12. The key covers user, password and the configured hash, so the
  password is never stored, not even hashed without a secret. Only *successes* are cached
  (exporter-toolkit caches failures too): a wrong password can neither be cached as good nor
  push good entries out, and the cache holds at most one entry per user and hash, bounded by
  ``cache_size`` (least recently used first out).
- **No user enumeration by timing.** An unknown user is checked against a dummy hash of the
  same bcrypt cost as the configured ones (exporter-toolkit's fixed cost-10 dummy differs from
  a cost-12 user's time), so it takes as long as a known user with a wrong password.
- **Bounded hashing.** bcrypt runs ``slots`` at a time (exporter-toolkit: one, under a mutex);
  ``waiting`` more requests may wait for a slot. Beyond that, :class:`HashingBusy` is raised
  at once and the server answers 429 with ``Retry-After: 1``. Refusing rather than waiting:
  a waiting request holds one of the server's few worker threads, so an unbounded queue lets a
  flood of wrong passwords take every worker and delay even cached scrapes — the 1.6 s seen
  before. 429 rather than 503: it is the answer exporter-toolkit's own rate limiter gives, it
  says "too many credential checks" and not "the exporter is down", and Prometheus shows it
  as the scrape's error; the next scrape, or the first one after the flood, goes through.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping

import bcrypt
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from edgesla import conventions as conv
from edgesla._errors import EdgeslaError

__all__ = ["BasicAuth", "HashingBusy"]

#: What a check ended with (label values of edgesla_exporter_auth_requests_total).
CACHED, VERIFIED, DENIED, BUSY = "cached", "verified", "denied", "busy"


class HashingBusy(EdgeslaError):
    """Every bcrypt slot and waiting place is taken: answer 429 and let the client retry."""


class BasicAuth:
    """Checks ``Authorization: Basic ...`` headers against ``users`` (name -> bcrypt hash)."""

    def __init__(
        self, users: Mapping[str, str], *, slots: int = 1, waiting: int = 3, cache_size: int = 64
    ) -> None:
        self._users = {user.encode(): hashed.encode() for user, hashed in users.items()}
        costs = Counter(_cost(h) for h in self._users.values())
        cost = costs.most_common(1)[0][0] if costs else 12
        self._dummy = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost))
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, None] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._admitted = threading.BoundedSemaphore(slots + waiting)
        self._hashing = threading.BoundedSemaphore(slots)
        self._outcomes: Counter[str] = Counter()
        self._bcrypt_checks = 0

    def check(self, authorization: str | None) -> bool:
        """True when the header names a user and the right password; see the module docstring.

        Raises :class:`HashingBusy` when a bcrypt check is needed and no place is free.
        """
        credentials = _parse(authorization)
        if credentials is None:
            return self._count(DENIED, False)
        user, password = credentials
        hashed = self._users.get(user)
        key = hmac.digest(self._key, b"\0".join((hashed or b"", user, password)), hashlib.sha256)
        with self._lock:
            if hashed is not None and key in self._cache:
                self._cache.move_to_end(key)
                self._outcomes[CACHED] += 1
                return True
        good = self._bcrypt(hashed or self._dummy, password) and hashed is not None
        if good:
            with self._lock:
                self._cache[key] = None
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return self._count(VERIFIED if good else DENIED, good)

    def _bcrypt(self, hashed: bytes, password: bytes) -> bool:
        if not self._admitted.acquire(blocking=False):
            self._count(BUSY, False)
            raise HashingBusy("too many credential checks at once; retry in a second")
        try:
            with self._hashing:
                with self._lock:
                    self._bcrypt_checks += 1
                try:
                    return bcrypt.checkpw(password, hashed)  # releases the GIL while hashing
                except ValueError:  # a password over bcrypt's 72 bytes, or a corrupt hash
                    return False
        finally:
            self._admitted.release()

    def _count(self, outcome: str, result: bool) -> bool:
        with self._lock:
            self._outcomes[outcome] += 1
        return result

    def counts(self) -> dict[str, int]:
        """Requests by outcome (cached, verified, denied, busy) and ``bcrypt`` checks run."""
        with self._lock:
            done = {o: self._outcomes[o] for o in (CACHED, VERIFIED, DENIED, BUSY)}
            return {**done, "bcrypt": self._bcrypt_checks}

    def collector(self, pop: str, region: str) -> Collector:
        """Self-metrics for the exporter's registry (labels pop, region)."""
        return _AuthCollector(self, pop, region)


class _AuthCollector(Collector):
    def __init__(self, auth: BasicAuth, pop: str, region: str) -> None:
        self._auth, self._labels = auth, [pop, region]

    def collect(self) -> Iterator[CounterMetricFamily]:
        counts = self._auth.counts()
        requests = CounterMetricFamily(
            conv.EXPORTER_AUTH_REQUESTS_TOTAL,
            "Requests that needed basic auth, by result: cached (a verified credential seen "
            "again), verified (bcrypt said yes), denied (401), busy (429: no hashing place).",
            labels=[conv.LABEL_POP, conv.LABEL_REGION, conv.LABEL_RESULT],
        )
        for outcome in (CACHED, VERIFIED, DENIED, BUSY):
            requests.add_metric([*self._labels, outcome], counts[outcome])
        yield requests
        checks = CounterMetricFamily(
            conv.EXPORTER_AUTH_BCRYPT_CHECKS_TOTAL,
            "bcrypt verifications run, those against the dummy hash for unknown users included.",
            labels=[conv.LABEL_POP, conv.LABEL_REGION],
        )
        checks.add_metric(self._labels, counts["bcrypt"])
        yield checks


def _parse(authorization: str | None) -> tuple[bytes, bytes] | None:
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None


def _cost(hashed: bytes) -> int:
    """The cost of a ``$2b$12$...`` hash (load_web_config has checked the prefix)."""
    try:
        return int(hashed.split(b"$")[2])
    except (IndexError, ValueError):
        return 12
