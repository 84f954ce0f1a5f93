"""The PSA sandbox: real HTTP servers that speak each PSA's API the way the vendor does.

Product code (demo, integration tests, fault tests, benchmarks), not a test mock. One port
(host.py) serves every PSA half (`psa/sandbox/<provider>/`, each a Site: see site.py) over the
shared fault engine (faults.py), texts and business hours. Start it with
`python manage.py psa_sandbox --port 8765 --scale small --seed 1`, or in-process:

    with SandboxServer(scale="small", seed=1) as sandbox:   # psa.sandbox.connectwise
        sandbox.url, sandbox.credentials, sandbox.store, sandbox.stats
"""
