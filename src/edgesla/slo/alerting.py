"""The spec's ``alerting:`` key: how cautious the burn-rate alerts of ``edgesla rules`` are.

    confidence: 0.95           # one level for the report's verdicts and the guarded alerts
    alerting:
      guard: wilson            # none (default): fire on the observed error ratio
      min_events: 100          # a pair fires only over at least this many events (default 0)

With ``guard: wilson`` a burn-rate pair fires only when the *lower* one-sided confidence
bound of the error ratio, at the spec's ``confidence``, clears the burn threshold over both
its windows: a lone failed probe in a quiet hour is not evidence of a 14.4x burn. The bound
is Wilson's score interval with continuity correction (Newcombe 1998, method 4), the closest
to the report's exact Clopper-Pearson bound that PromQL can compute (no beta quantile there);
``edgesla.rules.confidence`` holds the formula. ``min_events`` keeps a pair silent while its
long window holds fewer events than that (an exporter that just started, a PoP with one
target). The level is the spec's ``confidence``, not a key of its own: the report and the
alerts cannot disagree about what "confident" means.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, model_validator

from edgesla.strict import Strict

__all__ = ["Alerting"]

_GUARDS = ("none", "wilson")


def _guard(value: object) -> object:
    if value not in _GUARDS:
        raise ValueError(
            f"unknown guard {value!r}: use wilson (fire on the error ratio's lower confidence "
            "bound; an exact Clopper-Pearson bound cannot be computed in PromQL) or none"
        )
    return value


def _min_events(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"min_events {value!r} must be a whole number of events, 0 or more (0: no "
            "minimum), e.g. 100; keep it below what a long window (1h) normally holds"
        )
    return value


class Alerting(Strict):
    guard: Annotated[Literal["none", "wilson"], BeforeValidator(_guard)] = "none"
    min_events: Annotated[int, BeforeValidator(_min_events)] = 0

    @model_validator(mode="before")
    @classmethod
    def _no_own_confidence(cls, data: object) -> object:
        if isinstance(data, dict) and "confidence" in data:
            raise ValueError(
                "confidence is the spec's top-level key 'confidence' (one level for the "
                "report and the alerts); move it there and write guard: wilson here"
            )
        return data

    @property
    def guarded(self) -> bool:
        """Anything beyond today's plain burn-rate alerts."""
        return self.guard != "none" or self.min_events > 0
