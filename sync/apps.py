from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Sync"

    def ready(self) -> None:
        from sync import callbacks_health  # noqa: F401  registers its Celery task with the worker
