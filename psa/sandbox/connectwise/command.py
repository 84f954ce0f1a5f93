"""The ConnectWise half of `manage.py psa_sandbox`: one site, or `--tenants N` on one port."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from psa.sandbox.command import SandboxCommand, data_lines
from psa.sandbox.connectwise.data import SCALES
from psa.sandbox.connectwise.server import DEFAULT_CLIENT_ID, SandboxServer
from psa.sandbox.connectwise.tenants import SandboxTenants, tenant_faults_parse
from psa.sandbox.host import SandboxHost


def add_arguments(parser: ArgumentParser) -> None:
    group = parser.add_argument_group("ConnectWise")
    group.add_argument("--rate-limit", type=int, default=1000, help="requests per minute (0 = none)")
    group.add_argument("--company", default="sandbox")
    group.add_argument("--public-key", default="sandbox-public")
    group.add_argument("--private-key", default="sandbox-private")
    group.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    group.add_argument("--codebase", default="v2025_1/")
    group.add_argument(
        "--tenants",
        type=int,
        default=0,
        help="serve N ConnectWise tenants on the port: company ids tenant0000.., keys "
        "public-0000/private-0000.., each with its own data (--seed + index) and rate limit",
    )
    group.add_argument(
        "--tenant-faults",
        action="append",
        default=[],
        metavar="INDEXES:SPEC",
        help="faults of some tenants, e.g. 0-19:latency_ms=2000 or 20:500=1 (repeatable)",
    )


def build(host: SandboxHost, opts: dict[str, Any]) -> list[Any]:
    if opts["tenants"]:
        return [
            SandboxTenants(
                opts["tenants"],
                site_host=host,
                scale=opts["scale"],
                seed=opts["seed"],
                faults=tenant_faults_parse(opts["tenant_faults"], opts["tenants"]),
                rate_limit_per_minute=opts["rate_limit"],
                activity_per_second=opts["activity"],
                anchor=opts["anchor"],
            )
        ]
    return [
        SandboxServer(
            site_host=host,
            scale=opts["scale"],
            seed=opts["seed"],
            faults=opts["faults"],
            rate_limit_per_minute=opts["rate_limit"],
            activity_per_second=opts["activity"],
            company=opts["company"],
            public_key=opts["public_key"],
            private_key=opts["private_key"],
            client_id=opts["client_id"],
            codebase=opts["codebase"],
            anchor=opts["anchor"],
        )
    ]


def describe(site: Any, opts: dict[str, Any], seconds: float) -> list[str]:
    if isinstance(site, SandboxTenants):
        return _describe_tenants(site, opts, seconds)
    c = site.credentials
    return [
        f"ConnectWise PSA sandbox at {site.url}  (API base {site.api_base})",
        f"  company id : {c['company_id']}",
        f"  public key : {c['public_key']}",
        f"  private key: {c['private_key']}",
        f"  clientId   : {c['client_id']}",
        *data_lines(site, seconds, width=11),
        f"  rate limit : {opts['rate_limit'] or 'none'} requests/minute; activity {opts['activity']}/s",
    ]


def _describe_tenants(tenants: SandboxTenants, opts: dict[str, Any], seconds: float) -> list[str]:
    first, last = tenants.credentials(0), tenants.credentials(len(tenants) - 1)
    faulty = len(tenant_faults_parse(opts["tenant_faults"], opts["tenants"]))
    return [
        f"ConnectWise PSA sandbox with {len(tenants)} tenants at {tenants.url}",
        f"  company ids: {first['company_id']} .. {last['company_id']}",
        f"  keys       : {first['public_key']} / {first['private_key']} .. "
        f"{last['public_key']} / {last['private_key']}",
        f"  clientId   : {first['client_id']}",
        f"  scale      : {opts['scale']} each, seeds {opts['seed']}..{opts['seed'] + len(tenants) - 1} "
        f"(generated in {seconds:.1f} s)",
        f"  faults     : {', '.join(opts['tenant_faults']) or 'none'} ({faulty} tenants)",
    ]


COMMAND = SandboxCommand("ConnectWise", tuple(SCALES), add_arguments, build, describe)
