"""edgesla: observability and SLA verification for ISP carrier edge PoPs."""

from __future__ import annotations

from edgesla._errors import ConfigError, EdgeslaError, PreflightError, StackError, StartupError

__all__ = ["ConfigError", "EdgeslaError", "PreflightError", "StackError", "StartupError"]
__version__ = "0.1.0"
