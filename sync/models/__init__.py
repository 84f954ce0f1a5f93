from sync.models.approvals import MassDeleteApproval
from sync.models.checkpoint import SyncCheckpoint
from sync.models.connection import Connection
from sync.models.outbox import OutboxEntry
from sync.models.pending import PendingRefresh
from sync.models.runs import SyncRun, TierLock, Watermark

__all__ = [
    "Connection",
    "MassDeleteApproval",
    "OutboxEntry",
    "PendingRefresh",
    "SyncCheckpoint",
    "SyncRun",
    "TierLock",
    "Watermark",
]
