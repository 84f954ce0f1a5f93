"""Operator views of the sync app (the sync status pages); webhook receivers live in sync/webhooks.py."""
