"""The one exception tree of edgesla.

    EdgeslaError                 every error edgesla raises on purpose
    ├── ConfigError              a config file is missing, unreadable or invalid (exit 2)
    ├── RenderError              a report could not be rendered (Chromium failed) (exit 1)
    └── StackError               the local PoP stack cannot do what was asked
        ├── PreflightError       checked before anything starts: port taken, binary missing,
        │                        PostgreSQL too old, stale state dir (exit 2)
        └── StartupError         a component did not come up; all that started was stopped (exit 1)

Third-party exceptions are translated where they enter (``raise StackError(...) from exc``),
so callers catch one tree and the original stays chained for debugging.
Every message says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EdgeslaError",
    "PreflightError",
    "RenderError",
    "StackError",
    "StartupError",
]


class EdgeslaError(Exception):
    """Base of every error edgesla raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code: int = 1


class ConfigError(EdgeslaError):
    """A config file is missing, unreadable or invalid."""

    exit_code = 2


class RenderError(EdgeslaError):
    """A report could not be rendered (e.g. headless Chromium crashed or timed out)."""


class StackError(EdgeslaError):
    """The local PoP stack cannot do what was asked."""


class PreflightError(StackError):
    """A precondition failed before anything was started."""

    exit_code = 2


class StartupError(StackError):
    """A component did not come up; whatever had been started was stopped again."""
