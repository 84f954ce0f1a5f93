#!/usr/bin/env bash
# Run a command with the machine's clock shifted by Debian's libfaketime, e.g. the test suite on a
# Sunday more than a year ahead:
#   tests/support/faketime/run.sh "@$(date -u -d 'next sunday 371 days' '+%Y-%m-%d 10:00:00')" \
#       .venv/bin/pytest -q -m "not browser and not slow"
# The first argument is '@2028-03-12 10:00:00' (now is that instant, in every process) or a
# faketime offset ('+400d', '-30d'). Monotonic time stays real (deadlines and timeouts keep
# working); monotonic_sleep.c fixes time.sleep under that mode. Child processes (Celery worker,
# gunicorn) inherit the shifted clock, the browser does not; PostgreSQL and Redis are separate
# servers and keep the real one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
if [ $# -lt 2 ]; then
    echo "usage: $0 FAKETIME_SPEC COMMAND [ARG...]" >&2
    exit 2
fi
command -v faketime >/dev/null || {
    echo "needs Debian's faketime: apt-get install -y faketime" >&2
    exit 2
}
build="$root/var/faketime"
lib="$build/monotonic_sleep.so"
mkdir -p "$build"
if [ ! "$lib" -nt "$here/monotonic_sleep.c" ]; then
    cc -O2 -shared -fPIC -o "$lib.tmp" "$here/monotonic_sleep.c" -ldl
    mv "$lib.tmp" "$lib"
fi
spec=$1
shift
if [[ $spec == @* ]]; then
    # '@DATE' would restart at DATE in every child process (a Celery worker started minutes
    # later would lag the tests by those minutes): the same instant as one offset from the real
    # clock, which every process shares.
    spec="+$(($(date -u -d "${spec#@}" +%s) - $(date -u +%s)))"
fi
export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
export FAKETIME_DONT_FAKE_MONOTONIC=1
exec faketime -f "$spec" "$@"
