"""What an SLO is, once for every consumer (the report, the rules, the dashboards).

spec.py     the versioned SLO spec: objectives, window, confidence, maintenance, overrides
period.py   the period a report judges: a calendar month, a range, a rolling window
"""
