"""A user's own filters on a board, remembered so the board opens the way they left it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedFilters(models.Model):
    """The filter query string (member, company, priority, q) one user last chose on one board."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    board = models.ForeignKey("boards.Board", on_delete=models.CASCADE, related_name="+")
    query = models.CharField(max_length=500, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "saved filters"
        constraints = [
            models.UniqueConstraint(fields=["user", "board"], name="boards_savedfilters_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.board}: {self.query or '(none)'}"
