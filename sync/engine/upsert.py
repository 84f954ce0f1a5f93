"""One bulk upsert statement per page: INSERT ... ON CONFLICT (connection, psa_id) DO UPDATE.

Why not `bulk_create(update_conflicts=True)`: a full-tier page fetched a minute ago must never
overwrite a newer copy that a webhook refresh or the `changes` tier wrote meanwhile. The
conflict update therefore keeps the stored typed columns when the stored `psa_updated_at` is
newer (a per-column CASE), while always stamping `synced_at` (the row was seen in this listing,
which is what the prune step keys on). On PostgreSQL `RETURNING (xmax = 0)` tells created from
updated in the same statement; elsewhere (SQLite, local runs) existing ids are counted first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from sync.mapping.spec import Mapping

POSTGRES_MAX_PARAMS = 65_000


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    failed: int = 0  # rows the database refused even after coercion (counted as skipped)
    first_error: str = ""
    failed_ids: list[int] = field(default_factory=list)


def _insert_fields(model: type[Model]) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _batch_size(column_count: int) -> int:
    if connection.vendor == "postgresql":
        limit = POSTGRES_MAX_PARAMS
    else:
        limit = getattr(connection.features, "max_query_params", None) or 999
    return max(1, limit // column_count)


def _build_sql(mapping: Mapping, fields: list, row_count: int) -> str:
    quote = connection.ops.quote_name
    table = quote(mapping.model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = ", ".join([one_row] * row_count)
    stored, incoming = f"{table}.{quote('psa_updated_at')}", f"EXCLUDED.{quote('psa_updated_at')}"
    fresh = f"({stored} IS NULL OR {incoming} IS NULL OR {incoming} >= {stored})"
    by_name = {f.name: f for f in fields}
    assignments = [f"{quote('synced_at')} = EXCLUDED.{quote('synced_at')}"]
    for name in mapping.update_columns:
        if name == "synced_at":
            continue
        column = quote(by_name[name].column)
        assignments.append(f"{column} = CASE WHEN {fresh} THEN EXCLUDED.{column} ELSE {table}.{column} END")
    conflict = f"{quote('connection_id')}, {quote('psa_id')}"
    sql = f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT ({conflict}) DO UPDATE SET "
    sql += ", ".join(assignments)
    if connection.vendor == "postgresql":
        sql += " RETURNING (xmax = 0)"
    return sql


def _params(fields: list, rows: list[dict], now) -> list:
    params = []
    for row in rows:
        for model_field in fields:
            if model_field.name == "synced_at":
                value = now
            elif model_field.attname in row:
                value = row[model_field.attname]
            elif model_field.name in row:
                value = row[model_field.name]
            else:
                value = model_field.get_default()
            params.append(model_field.get_db_prep_save(value, connection=connection))
    return params


def _execute(mapping: Mapping, fields: list, rows: list[dict]) -> tuple[int, int]:
    now = timezone.now()
    sql = _build_sql(mapping, fields, len(rows))
    existing = 0
    if connection.vendor != "postgresql":
        ids = [row["psa_id"] for row in rows]
        existing = mapping.model.objects.filter(connection_id=rows[0]["connection_id"], psa_id__in=ids).count()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, _params(fields, rows, now))
        if connection.vendor == "postgresql":
            flags = [r[0] for r in cursor.fetchall()]
            created = sum(1 for flag in flags if flag)
            return created, len(flags) - created
    return len(rows) - existing, existing


def upsert_rows(mapping: Mapping, rows: list[dict]) -> UpsertCounts:
    """Upsert mapped rows of one connection (duplicates within the batch: the last one wins)."""
    counts = UpsertCounts()
    unique = list({row["psa_id"]: row for row in rows}.values())
    if not unique:
        return counts
    fields = _insert_fields(mapping.model)
    size = _batch_size(len(fields))
    for start in range(0, len(unique), size):
        batch = unique[start:start + size]
        try:
            created, updated = _execute(mapping, fields, batch)
        except DatabaseError:
            # Coercion should make this impossible; if the database still refuses the batch,
            # isolate the offending rows instead of losing the page.
            created, updated = _execute_one_by_one(mapping, fields, batch, counts)
        counts.created += created
        counts.updated += updated
    return counts


def _execute_one_by_one(mapping: Mapping, fields: list, rows: list[dict], counts: UpsertCounts) -> tuple[int, int]:
    created = updated = 0
    for row in rows:
        try:
            one_created, one_updated = _execute(mapping, fields, [row])
        except DatabaseError as err:
            counts.failed += 1
            counts.failed_ids.append(row["psa_id"])
            counts.first_error = counts.first_error or f"psa_id {row['psa_id']}: {err}"
            continue
        created += one_created
        updated += one_updated
    return created, updated
