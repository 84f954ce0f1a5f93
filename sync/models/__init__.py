from sync.models.connection import Connection
from sync.models.runs import SyncRun, TierLock, Watermark

__all__ = ["Connection", "SyncRun", "TierLock", "Watermark"]
