"""Step 2: metadata rules — the objective in force at each PoP and the error budget left.

The budget left over the spec's window W is ``1 - (errors / events) / (1 - objective)``
with errors and events the sums over W of the recorded 5-minute counts. Those counts are
recorded at every evaluation, so each event is counted (5m / interval) times, in the
numerator and the denominator alike: the ratio stays exact (unlike a mean of ratios, which
uneven traffic biases) and costs one ``sum_over_time`` per series instead of a raw
``increase`` over W.
"""

from __future__ import annotations

from edgesla import conventions as conv
from edgesla import promql
from edgesla.durations import format_duration
from edgesla.rules import sli
from edgesla.rules.burnrate import decimal_text
from edgesla.rules.model import Group, Recording, Rule, Slo

__all__ = ["meta_group"]


def meta_group(slo: Slo, window_seconds: float) -> Group:
    rules: list[Rule] = []
    for scope in slo.scopes:
        events = conv.RULE_POP_EVENTS_5M + promql.matchers(
            promql.equals(conv.LABEL_SLO, slo.name), sli.scope_matcher(scope)
        )
        rules.append(
            Recording(
                conv.RULE_POP_OBJECTIVE,
                f"{decimal_text(scope.objective)} * group by "
                f"({conv.LABEL_SLO}, {conv.LABEL_POP}, {conv.LABEL_REGION}) ({events})",
                sli.scope_labels(slo, scope),
            )
        )
    this = promql.matchers(promql.equals(conv.LABEL_SLO, slo.name))
    window = format_duration(window_seconds)
    rules.append(
        Recording(
            conv.RULE_POP_BUDGET_REMAINING,
            f"1 - (\n  sum_over_time({conv.RULE_POP_ERRORS_5M}{this}[{window}])\n"
            f"  / sum_over_time({conv.RULE_POP_EVENTS_5M}{this}[{window}])\n)"
            f" / (1 - {conv.RULE_POP_OBJECTIVE}{this})",
            {conv.LABEL_SLO: slo.name},
        )
    )
    return Group(
        f"edgesla-slo-{slo.name}-meta",
        tuple(rules),
        f"SLO {slo.name}: objective per PoP (overrides applied) and error budget left "
        f"over {window}",
    )
