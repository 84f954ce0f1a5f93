from sync.models.connection import Connection

__all__ = ["Connection"]
