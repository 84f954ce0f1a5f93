"""One bulk upsert statement per page: INSERT ... ON CONFLICT (connection, psa_id) DO UPDATE
(the model's psa key: TicketAssignment's also holds its source, see psa_key).

Why not `bulk_create(update_conflicts=True)`: a full-tier page fetched a minute ago must never
overwrite a newer copy that a webhook refresh or the `changes` tier wrote meanwhile. The
conflict update therefore keeps the stored typed columns when the stored `psa_updated_at` is
newer (a per-column CASE), while always stamping `synced_at` (the row was seen in this listing,
which is what the prune step keys on). Columns a user's undelivered edit changed (`held`, from
pending_edits.py) keep their stored value on those rows too. On PostgreSQL the same statement tells created rows
(`xmax = 0`) from changed ones (a different server lastUpdated) and unchanged re-fetches;
elsewhere (SQLite, local runs) existing ids are counted first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import DatabaseError, connection, transaction
from django.db.models import Model, UniqueConstraint
from django.utils import timezone

from sync.mapping.spec import Mapping

POSTGRES_ROWS_PER_STATEMENT = 5000  # one jsonb document, not placeholders: no parameter limit


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0  # existing rows whose PSA lastUpdated changed
    failed: int = 0  # rows the database refused even after coercion (counted as skipped)
    first_error: str = ""
    failed_ids: list[int] = field(default_factory=list)


def _insert_fields(model: type[Model]) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _batch_size(column_count: int) -> int:
    if connection.vendor == "postgresql":
        return POSTGRES_ROWS_PER_STATEMENT
    limit = getattr(connection.features, "max_query_params", None) or 999
    return max(1, limit // column_count)


Held = dict[str, list[int]]  # column → psa ids whose stored value it keeps (pending_edits.py)


def psa_key(model: type[Model]) -> list[str]:
    """The columns naming one mirrored record: those of the model's `*_psa_key` constraint
    (connection and psa_id; plus e.g. TicketAssignment.source, when a PSA keeps one model's
    records in several entities with their own id sequences)."""
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.name.endswith("_psa_key"):
            by_name = {f.name: str(f.column) for f in model._meta.concrete_fields}
            return [by_name[name] for name in constraint.fields]
    return ["connection_id", "psa_id"]


def _key_values(mapping: Mapping) -> dict[str, object]:
    """The identity columns besides connection and psa_id, with the value every row of this
    mapping has (fixed by the mapping, else the field's default): one page, one value."""
    values = {}
    for column in psa_key(mapping.model):
        if column in ("connection_id", "psa_id"):
            continue
        model_field = next(f for f in mapping.model._meta.concrete_fields if f.column == column)
        values[column] = mapping.fixed.get(model_field.name, model_field.get_default())
    return values


def _on_conflict(mapping: Mapping, fields: list, held: Held) -> tuple[str, list]:
    """The conflict clause and its parameters (the psa ids of held columns)."""
    quote = connection.ops.quote_name
    table = quote(mapping.model._meta.db_table)
    stored, incoming = f"{table}.{quote('psa_updated_at')}", f"EXCLUDED.{quote('psa_updated_at')}"
    fresh = f"({stored} IS NULL OR {incoming} IS NULL OR {incoming} >= {stored})"
    by_name = {f.name: f for f in fields}
    assignments, params = [f"{quote('synced_at')} = EXCLUDED.{quote('synced_at')}"], []
    for name in mapping.update_columns:
        if name == "synced_at":
            continue
        column = quote(by_name[name].column)
        write = fresh
        if held.get(name):
            ids = held[name]
            write = f"({fresh} AND {table}.{quote('psa_id')} NOT IN ({', '.join(['%s'] * len(ids))}))"
            params.extend(ids)
        assignments.append(f"{column} = CASE WHEN {write} THEN EXCLUDED.{column} ELSE {table}.{column} END")
    conflict = ", ".join(quote(column) for column in psa_key(mapping.model))
    return f" ON CONFLICT ({conflict}) DO UPDATE SET " + ", ".join(assignments), params


def _column_values(fields: list, rows: list[dict], now) -> list[list]:
    """Per column, the Python values of every row (defaults for columns a row lacks)."""
    columns = []
    for model_field in fields:
        if model_field.name == "synced_at":
            columns.append([now] * len(rows))
            continue
        key = model_field.attname if model_field.attname in rows[0] else model_field.name
        default = model_field.get_default() if key not in rows[0] else None
        columns.append([row.get(key, default) for row in rows])
    return columns


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _postgres_statement(
    mapping: Mapping, fields: list, rows: list[dict], now, held: Held
) -> tuple[str, list]:
    # The whole page travels as ONE jsonb document unpacked by jsonb_to_recordset(): a short
    # statement whatever the page size, encoded by the C json encoder (no 50,000-placeholder
    # string for the driver to split, no per-element escaping of array literals). The `old`
    # CTE reads the stored lastUpdated from the snapshot before the insert, so the same
    # statement tells created / changed / unchanged rows apart (an overlap re-fetch is no change).
    quote = connection.ops.quote_name
    table = quote(mapping.model._meta.db_table)
    psa_id, updated_at, connection_id = quote("psa_id"), quote("psa_updated_at"), quote("connection_id")
    columns = ", ".join(quote(f.column) for f in fields)
    record_type = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    conflict, conflict_params = _on_conflict(mapping, fields, held)
    key_values = _key_values(mapping)
    same_key = "".join(f" AND {quote(column)} = %s" for column in key_values)
    sql = (
        f"WITH old AS (SELECT {psa_id}, {updated_at} FROM {table} "
        f"WHERE {connection_id} = %s AND {psa_id} = ANY(%s::bigint[]){same_key}), "
        f"ins AS (INSERT INTO {table} ({columns}) SELECT {columns} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS page({record_type})"
        f"{conflict} RETURNING {psa_id}, {updated_at}, (xmax = 0) AS created) "
        f"SELECT ins.created, (old.{updated_at} IS NULL OR ins.{updated_at} IS DISTINCT FROM old.{updated_at}) "
        f"FROM ins LEFT JOIN old ON old.{psa_id} = ins.{psa_id}"
    )
    names = [f.column for f in fields]
    by_row = zip(*_column_values(fields, rows, now), strict=True)
    document = [dict(zip(names, values, strict=True)) for values in by_row]
    page = json.dumps(document, default=_json_default, ensure_ascii=False, allow_nan=False)
    ids = [row["psa_id"] for row in rows]
    return sql, [rows[0]["connection_id"], ids, *key_values.values(), page, *conflict_params]


def _portable_statement(
    mapping: Mapping, fields: list, rows: list[dict], now, held: Held
) -> tuple[str, list]:
    quote = connection.ops.quote_name
    table = quote(mapping.model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one_row] * len(rows))
    by_column = _column_values(fields, rows, now)
    params = [
        model_field.get_db_prep_save(by_column[i][r], connection=connection)
        for r in range(len(rows))
        for i, model_field in enumerate(fields)
    ]
    conflict, conflict_params = _on_conflict(mapping, fields, held)
    return sql + conflict, params + conflict_params


def _execute(mapping: Mapping, fields: list, rows: list[dict], held: Held) -> tuple[int, int]:
    """(created, changed) for one statement."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        sql, params = _postgres_statement(mapping, fields, rows, now, held)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            results = cursor.fetchall()
        created = sum(1 for was_created, _ in results if was_created)
        changed = sum(1 for was_created, differs in results if differs and not was_created)
        return created, changed
    # Elsewhere (SQLite, local runs): count existing ids first; every existing row counts as changed.
    ids = [row["psa_id"] for row in rows]
    existing = mapping.model._default_manager.filter(
        connection_id=rows[0]["connection_id"], psa_id__in=ids, **_key_filter(mapping)
    ).count()
    sql, params = _portable_statement(mapping, fields, rows, now, held)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return len(rows) - existing, existing


def _key_filter(mapping: Mapping) -> dict[str, object]:
    by_column = {f.column: f.name for f in mapping.model._meta.concrete_fields}
    return {by_column[column]: value for column, value in _key_values(mapping).items()}


def upsert_rows(mapping: Mapping, rows: list[dict], held: Held | None = None) -> UpsertCounts:
    """Upsert mapped rows of one connection (duplicates within the batch: the last one wins);
    `held` columns keep their stored value on the listed rows."""
    held = held or {}
    counts = UpsertCounts()
    unique = list({row["psa_id"]: row for row in rows}.values())
    if not unique:
        return counts
    fields = _insert_fields(mapping.model)
    size = _batch_size(len(fields))
    for start in range(0, len(unique), size):
        batch = unique[start : start + size]
        try:
            created, updated = _execute(mapping, fields, batch, held)
        except (DatabaseError, ValueError):  # ValueError: e.g. a lone surrogate the driver cannot encode
            # Coercion should make this impossible; if the database still refuses the batch,
            # isolate the offending rows instead of losing the page.
            created, updated = _execute_one_by_one(mapping, fields, batch, counts, held)
        counts.created += created
        counts.updated += updated
    return counts


def _execute_one_by_one(
    mapping: Mapping, fields: list, rows: list[dict], counts: UpsertCounts, held: Held
) -> tuple[int, int]:
    created = updated = 0
    for row in rows:
        try:
            one_created, one_updated = _execute(mapping, fields, [row], held)
        except (DatabaseError, ValueError) as err:
            counts.failed += 1
            counts.failed_ids.append(row["psa_id"])
            counts.first_error = counts.first_error or f"psa_id {row['psa_id']}: {err}"
            continue
        created += one_created
        updated += one_updated
    return created, updated
