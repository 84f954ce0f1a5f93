"""Each PSA half's part of `manage.py psa_sandbox`: its own options, its sites, its banner.

A provider's sandbox folder declares `COMMAND = SandboxCommand(...)` in its `command` module
(`psa/sandbox/<provider>/command.py`); the command finds it by the provider's registry name,
so a new PSA adds no line to the command. The shared options (host, port, scale, seed,
activity, faults, TLS, anchor) are the command's own.
"""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from psa.sandbox.host import SandboxHost


@dataclass(frozen=True)
class SandboxCommand:
    label: str  # "ConnectWise": the options' group title
    scales: tuple[str, ...]  # the data scales it generates (every half offers the same names)
    # (parser) → adds the provider's own options (names must not clash with another provider's)
    add_arguments: Callable[[ArgumentParser], None]
    # (host, options) → the provider's sites, added to the host (options["anchor"] is parsed)
    build: Callable[[SandboxHost, dict[str, Any]], list[Any]]
    # (site, options, seconds it took to generate) → the lines printed once it serves
    describe: Callable[[Any, dict[str, Any], float], list[str]]


def data_lines(site: Any, seconds: float, *, width: int) -> list[str]:
    """The banner lines every half prints about its data and faults (labels padded to `width`)."""
    return [
        f"  {'scale':<{width}}: {site.scale}, seed {site.seed}, anchor {site.anchor:%Y-%m-%d} "
        f"(generated in {seconds:.1f} s)",
        f"  {'records':<{width}}: " + ", ".join(f"{k} {v}" for k, v in site.record_counts().items()),
        f"  {'faults':<{width}}: {site.faults.describe()}",
    ]


def sandbox_command(provider: str) -> SandboxCommand:
    return import_module(f"psa.sandbox.{provider}.command").COMMAND
