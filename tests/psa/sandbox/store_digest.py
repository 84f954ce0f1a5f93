"""A digest of everything a seeded sandbox store holds: every collection, every lazily made note.

Used to prove that a change to the generators (a speed-up, a refactoring) leaves the generated
data byte for byte as they were: record the digests before the change, compare after.

    .venv/bin/python -m tests.psa.sandbox.store_digest --scale small --seeds 1 2 3 > before.json
    .venv/bin/python -m tests.psa.sandbox.store_digest --scale small --seeds 1 2 3 | diff before.json -
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import UTC, datetime

from psa.sandbox.connectwise.data import Generator
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.rules import Rules
from psa.sandbox.connectwise.schema import NOTE_ENTITIES, SPECS, spec_for
from psa.sandbox.connectwise.store import SandboxStore

# Fixed anchors on several weekdays, around the year-end holidays and not at midnight: the SLA
# state counts business days and holidays, so each of these walks different calendar paths.
ANCHORS = (
    datetime(2026, 11, 25, tzinfo=UTC),  # a Wednesday, like the tests' anchor
    datetime(2025, 12, 28, tzinfo=UTC),  # a Sunday after Christmas
    datetime(2026, 3, 14, 13, 37, tzinfo=UTC),  # a Saturday afternoon
)


def generated(scale: str, seed: int, anchor: datetime) -> SandboxStore:
    store = SandboxStore()
    refs = RefBuilder("http://127.0.0.1:1/v2025_1/apis/3.0/")
    store.hooks = Rules(refs)
    Generator(store, refs, scale=scale, seed=seed, anchor=anchor).generate()
    return store


def collection_digests(store: SandboxStore, *, notes: bool = True, ordered: bool = False) -> dict[str, str]:
    """sha256 of each collection's records (in id order, as JSON with sorted keys); with
    `notes`, every parent's lazily generated notes are made first so they are covered too.
    `ordered` keeps each record's own key order (compare such digests only between runs with
    the same PYTHONHASHSEED: some fields are added in the order of a set of names)."""
    if notes:
        for key in NOTE_ENTITIES:
            parent = spec_for(key).parent
            parents = ("service/tickets", "project/tickets") if parent == "service/tickets" else (parent,)
            for parent_key in parents:
                for parent_id in store.ids(parent_key or ""):
                    store.id_list(key, parent_id=parent_id)  # materialises the parent's notes
    return {
        spec.key: hashlib.sha256(
            json.dumps(store.list(spec.key), sort_keys=not ordered, ensure_ascii=False).encode()
        ).hexdigest()
        for spec in SPECS
    }


def store_digest(
    scale: str, seed: int, anchor: datetime, *, notes: bool = True, ordered: bool = False
) -> str:
    """One sha256 over every collection's digest."""
    digests = collection_digests(generated(scale, seed, anchor), notes=notes, ordered=ordered)
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7])
    parser.add_argument("--no-notes", action="store_true", help="skip the lazily made notes")
    parser.add_argument("--per-collection", action="store_true", help="one digest per collection")
    parser.add_argument("--ordered", action="store_true", help="keep key order (fix PYTHONHASHSEED)")
    args = parser.parse_args(argv)
    out: dict[str, object] = {}
    for seed in args.seeds:
        for anchor in ANCHORS:
            key = f"{args.scale}:{seed}:{anchor.isoformat()}"
            if args.per_collection:
                store = generated(args.scale, seed, anchor)
                out[key] = collection_digests(store, notes=not args.no_notes, ordered=args.ordered)
            else:
                out[key] = store_digest(
                    args.scale, seed, anchor, notes=not args.no_notes, ordered=args.ordered
                )
            print(key, file=sys.stderr)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
