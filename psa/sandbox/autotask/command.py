"""The Autotask half of `manage.py psa_sandbox`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from psa.sandbox.autotask.data import SCALES
from psa.sandbox.autotask.sandbox import (
    DEFAULT_INTEGRATION_CODE,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    AutotaskSandbox,
)
from psa.sandbox.command import SandboxCommand, data_lines
from psa.sandbox.host import SandboxHost


def add_arguments(parser: ArgumentParser) -> None:
    group = parser.add_argument_group("Autotask")
    group.add_argument("--username", default=DEFAULT_USERNAME, help="Autotask API user")
    group.add_argument("--secret", default=DEFAULT_SECRET, help="Autotask API user's secret")
    group.add_argument("--integration-code", default=DEFAULT_INTEGRATION_CODE, help="Autotask tracking id")


def build(host: SandboxHost, opts: dict[str, Any]) -> list[Any]:
    return [
        AutotaskSandbox(
            host,
            scale=opts["scale"],
            seed=opts["seed"],
            username=opts["username"],
            secret=opts["secret"],
            integration_code=opts["integration_code"],
            anchor=opts["anchor"],
            faults=opts["faults"],
            activity_per_second=opts["activity"],
        )
    ]


def describe(site: AutotaskSandbox, opts: dict[str, Any], seconds: float) -> list[str]:
    c = site.credentials
    return [
        f"Autotask PSA sandbox at {site.url}  (zone URL {site.zone_url})",
        f"  zone discovery  : {site.discovery_url}",
        f"  username        : {c['username']}",
        f"  secret          : {c['secret']}",
        f"  integration code: {c['integration_code']}",
        *data_lines(site, seconds, width=16),
    ]


COMMAND = SandboxCommand("Autotask", tuple(SCALES), add_arguments, build, describe)
