"""Watermarks: where the `changes` tier resumes, per connection + entity.

The value is server time (`_info.lastUpdated`). After a successful run it becomes
    min(newest lastUpdated seen, run start) - OVERLAP
and it never moves backwards. Capping at the run start matters for long listings: a record
updated while the listing was past its id carries a lastUpdated after the run started, so the
next `changes` run still picks it up. The overlap absorbs clock skew between us and the PSA.
Failed, refused or killed runs never move it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sync.models import Watermark

OVERLAP = timedelta(minutes=2)


def watermark_get(*, connection_id: int, entity: str) -> datetime | None:
    row = Watermark.objects.filter(connection_id=connection_id, entity=entity).first()
    return row.last_updated if row else None


def watermark_advance(
    *, connection_id: int, entity: str, newest_seen: datetime | None, started_at: datetime
) -> datetime | None:
    """Move the watermark forward after a successful run; returns the stored value."""
    current = watermark_get(connection_id=connection_id, entity=entity)
    if newest_seen is None:
        return current
    candidate = min(newest_seen, started_at) - OVERLAP
    if current is not None and candidate <= current:
        return current
    Watermark.objects.update_or_create(
        connection_id=connection_id, entity=entity, defaults={"last_updated": candidate}
    )
    return candidate
