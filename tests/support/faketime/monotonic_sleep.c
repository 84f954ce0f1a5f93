/* Preloaded before Debian's libfaketime 0.9.10 for the shifted-clock test runs (run.sh).
 *
 * With FAKETIME_DONT_FAKE_MONOTONIC=1 (needed, or Python's timed lock waits, which libfaketime
 * does not wrap, would wait until the fake monotonic deadline: forever), libfaketime still shifts
 * the deadline of clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...) by the fake offset, so
 * every time.sleep() of Python 3.11 fails with EINVAL. Monotonic time is real in that mode: the
 * kernel gets monotonic sleeps as they are; any other clock still goes through libfaketime.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *request, struct timespec *remain)
{
    if (clock_id == CLOCK_MONOTONIC) {
        /* clock_nanosleep returns the error number instead of setting errno */
        return syscall(SYS_clock_nanosleep, clock_id, flags, request, remain) == -1 ? errno : 0;
    }
    static clock_nanosleep_fn next;
    if (!next) {
        next = (clock_nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
    }
    return next(clock_id, flags, request, remain);
}
