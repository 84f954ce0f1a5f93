from django.apps import AppConfig


class BoardsConfig(AppConfig):
    name = "boards"
    verbose_name = "Boards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from boards import signals  # noqa: F401  (connects the receivers)
