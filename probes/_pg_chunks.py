"""The queries of postgres_convergence on one connection: a table's shape, its chunk
checksums, the rows of some chunks (the arithmetic is in ``edgesla.probes._pg_ranges``).

Every function here runs inside the caller's ``REPEATABLE READ READ ONLY`` transaction, after
``SESSION`` pinned what shapes a row's text. Names are quoted by psycopg (``sql.Identifier``),
values passed as parameters: nothing from the config is pasted into SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from psycopg import sql

from edgesla._errors import ConfigError
from edgesla.config import PostgresConvergenceTarget
from edgesla.probes import _pg
from edgesla.probes._pg_ranges import Digest, Version, chunk_runs

__all__ = ["SESSION", "Rows", "Shape", "Sums", "checksums", "rows", "shape"]

#: Pinned per transaction (set_config(..., true)): a row's text (hashed by md5 when rows are
#: compared one by one) must not depend on the session (a timestamptz is printed in the
#: session's TimeZone). The chunk checksums hash the values themselves
#: (``hash_record_extended``, PostgreSQL >= 14: 4x faster than md5 of the text, measured on
#: 100,000 rows), which no setting changes.
SESSION = (
    "SELECT pg_catalog.set_config('TimeZone', 'UTC', true), "
    "pg_catalog.set_config('DateStyle', 'ISO, YMD', true), "
    "pg_catalog.set_config('IntervalStyle', 'postgres', true), "
    "pg_catalog.set_config('extra_float_digits', '1', true), "
    "pg_catalog.set_config('bytea_output', 'hex', true)"
)
_KEY = (
    "SELECT a.attname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
    "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
    "WHERE i.indrelid = %s::regclass AND i.indisprimary"
)
_COLUMNS = (
    "SELECT attname FROM pg_catalog.pg_attribute "
    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
)
_BOUNDS = (
    "SELECT k FROM (SELECT {key} AS k, row_number() OVER (ORDER BY {key}) AS n FROM {table}) s "
    "WHERE n %% %(chunk)s = 0 ORDER BY k"
)
_CHECKSUMS = (
    "SELECT chunk, count(*) FILTER (WHERE NOT settling), "
    "coalesce(sum(h) FILTER (WHERE NOT settling), 0), count(*) FILTER (WHERE settling) "
    "FROM (SELECT {chunk} AS chunk, pg_catalog.hash_record_extended({row}, 0) AS h, "
    "{settling} AS settling FROM {table}) s GROUP BY chunk"
)
_ROWS = "SELECT {chunk}, {key}, md5({row}::text), {settling} FROM {table} WHERE {ranges}"
_SETTLING = "coalesce({modified} >= now() - make_interval(secs => %(settle)s), false)"


@dataclass(frozen=True)
class Shape:
    """What the chunks of one table are cut by: its key, its columns, the bounds."""

    key: str
    columns: tuple[str, ...]
    bounds: tuple[object, ...]


@dataclass(frozen=True)
class Sums:
    digests: dict[int, Digest]
    settled: int
    unsettled: int


Rows = dict[int, dict[object, Version]]  # chunk -> key -> version


def shape(conn: _pg.Conn, target: PostgresConvergenceTarget, table: str) -> Shape:
    keys = [str(row[0]) for row in conn.execute(_KEY, (table,))]
    if len(keys) != 1:
        raise ConfigError(
            f"{table} has {'no primary key' if not keys else 'a composite primary key'}: the "
            "convergence check needs a single-column primary key; leave it out of tables"
        )
    columns = tuple(str(row[0]) for row in conn.execute(_COLUMNS, (table,)))
    if target.modified_column not in columns:
        raise ConfigError(
            f"{table} has no column {target.modified_column!r}: set modified_column to its "
            "last-write-wins timestamp column"
        )
    query = sql.SQL(_BOUNDS).format(key=sql.Identifier(keys[0]), table=_pg.identifier(table))
    bounds = tuple(row[0] for row in conn.execute(query, {"chunk": target.chunk_rows}))
    return Shape(keys[0], columns, bounds)


def checksums(conn: _pg.Conn, target: PostgresConvergenceTarget, table: str, shape: Shape) -> Sums:
    query = sql.SQL(_CHECKSUMS).format(**_parts(target, table, shape))
    digests, settled, unsettled = {}, 0, 0
    for chunk, rows, hash_sum, settling in conn.execute(query, _params(target, shape)):
        digests[int(chunk)] = Digest(int(rows), int(hash_sum))
        settled, unsettled = settled + int(rows), unsettled + int(settling)
    return Sums(digests, settled, unsettled)


def rows(
    conn: _pg.Conn,
    target: PostgresConvergenceTarget,
    table: str,
    shape: Shape,
    chunks: Iterable[int],
) -> Rows:
    """The rows of ``chunks``, by chunk; one key-range predicate per run of chunks."""
    key = sql.Identifier(shape.key)
    ranges: list[sql.Composable] = []
    params: dict[str, object] = dict(_params(target, shape))
    for n, (first, last) in enumerate(chunk_runs(sorted(chunks), shape.bounds)):
        sides: list[sql.Composable] = []
        if first > 0:
            params[f"lo{n}"] = shape.bounds[first - 1]
            sides.append(sql.SQL("{key} >= {p}").format(key=key, p=sql.Placeholder(f"lo{n}")))
        if last < len(shape.bounds):
            params[f"hi{n}"] = shape.bounds[last]
            sides.append(sql.SQL("{key} < {p}").format(key=key, p=sql.Placeholder(f"hi{n}")))
        ranges.append(sql.SQL("({})").format(sql.SQL(" AND ").join(sides or [sql.SQL("true")])))
    if not ranges:
        return {}
    query = sql.SQL(_ROWS).format(
        **_parts(target, table, shape), key=key, ranges=sql.SQL(" OR ").join(ranges)
    )
    found: Rows = {}
    for chunk, value, digest, settling in conn.execute(query, params):
        found.setdefault(int(chunk), {})[value] = Version(str(digest), bool(settling))
    return found


def _parts(
    target: PostgresConvergenceTarget, table: str, shape: Shape
) -> dict[str, sql.Composable]:
    key = sql.Identifier(shape.key)
    chunk: sql.Composable = (
        sql.SQL("width_bucket({key}, %(bounds)s)").format(key=key) if shape.bounds else sql.SQL("0")
    )
    row = sql.SQL("ROW({})").format(sql.SQL(", ").join(map(sql.Identifier, shape.columns)))
    settling = sql.SQL(_SETTLING).format(modified=sql.Identifier(target.modified_column))
    return {"table": _pg.identifier(table), "chunk": chunk, "row": row, "settling": settling}


def _params(target: PostgresConvergenceTarget, shape: Shape) -> Mapping[str, object]:
    params: dict[str, object] = {"settle": target.settle_time}
    if shape.bounds:
        params["bounds"] = list(shape.bounds)
    return params
