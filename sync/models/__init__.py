from sync.models.connection import Connection
from sync.models.outbox import OutboxEntry
from sync.models.runs import SyncRun, TierLock, Watermark

__all__ = ["Connection", "OutboxEntry", "SyncRun", "TierLock", "Watermark"]
