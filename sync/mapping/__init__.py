"""PSA record → mirror row: the mapping table (catalog.py), its mechanics (spec.py) and the
coercion of messy values (coerce.py)."""
