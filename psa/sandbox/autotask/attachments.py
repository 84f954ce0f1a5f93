"""Ticket attachments: a file (base64 `data`), a URL or a folder link hung on a ticket.

Reference: endpoints.tsv — TicketAttachments are queried at the root and listed, created, read and
deleted under `/Tickets/{parentId}/Attachments`; api.md §7 — a file is at most 6–7 MB (the exact
cut is unverified, so the larger is taken). @apigrate/autotask-restapi: only the child item GET
(`/Tickets/{parentId}/Attachments/{id}`) returns the file's `data`; every other read has it null.
The error wording is unverified.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes

from psa.sandbox.autotask.rules import WriteError

ENTITIES = frozenset({"TicketAttachments"})
ATTACHMENT_TYPES = frozenset({"FILE_ATTACHMENT", "URL", "FOLDER_LINK"})
MAX_FILE_BYTES = 7_000_000
# The file's base64 text, kept beside the record (like `_udf`) and off the wire but for the one
# read that returns it.
DATA_KEY = "_data"


def on_create(record: dict, actor: int, now: str) -> dict:
    """The attachment as stored: its kind checked, the file's size and type taken from `data`,
    and who attached it when."""
    kind = str(record.get("attachmentType") or "").upper()
    if kind not in ATTACHMENT_TYPES:
        raise WriteError(f"attachmentType must be one of {', '.join(sorted(ATTACHMENT_TYPES))}.")
    record["attachmentType"] = kind
    data = record.pop("data", None)
    if kind == "FILE_ATTACHMENT":
        content = _file_bytes(data)
        record[DATA_KEY] = data
        record["fileSize"] = len(content)
        record["contentType"] = _content_type(record.get("fullPath"))
    record.update(attachDate=now, attachedByResourceID=actor, creatorType=1, parentID=record.get("ticketID"))
    return record


def with_data(item: dict, record: dict) -> dict:
    """A child item read: the one answer that carries the file."""
    item["data"] = record.get(DATA_KEY)
    return item


def _file_bytes(data: object) -> bytes:
    if not isinstance(data, str) or not data:
        raise WriteError("A FILE_ATTACHMENT needs its content in data (base64).")
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise WriteError("The attachment data is not valid base64.") from None
    if len(content) > MAX_FILE_BYTES:
        raise WriteError(f"The attachment is larger than the {MAX_FILE_BYTES} bytes allowed.")
    return content


def _content_type(full_path: object) -> str:
    guessed, _encoding = mimetypes.guess_type(str(full_path or ""))
    return guessed or "application/octet-stream"
