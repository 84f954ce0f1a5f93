"""Datto Autotask PSA (REST API v1.0) as a provider: see provider.py for what it declares."""
