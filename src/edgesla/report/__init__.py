"""The SLA report: spec -> inputs -> model -> evaluators -> renderers.

spec.py        the versioned SLO spec (YAML), strictly validated
inputs/        evidence from Prometheus and load-test results directories
model.py       what every stage passes on: evidence in, verdicts out (frozen dataclasses)
stats.py       one-sided confidence bounds (Clopper-Pearson), events still needed
evaluate.py    pure functions: evidence -> ObjectiveResult; per PoP and fleet roll-up
render/        HTML (inline SVG), PDF (headless Chromium), JSON, JUnit XML, terminal
"""
