/* tests/realtest.h — shared helpers of the real-kernel tests (test_real_*).
 *
 * Contract: rt_require() decides whether this machine can run a real-kernel
 * test of the given page size (0 = only userfaultfd is needed); when it
 * cannot, it prints the reason and the test calls cmocka's skip()
 * (RT_REQUIRE does both). rt_setup/rt_teardown arm and disarm the
 * process-wide watchdog around each test, so a hang fails the run instead
 * of stalling CI. Pass &rt_4k or &rt_2m as a test's prestate to run one
 * test body for both page sizes (*state then points at the page size).
 * Linked into every test binary: depends on nothing but libuffdlab.
 */
#ifndef UFFDLAB_TESTS_REALTEST_H
#define UFFDLAB_TESTS_REALTEST_H

#include <stdint.h>
#include <sys/types.h>

/* Generous: a test that needs this long has hung. */
#define RT_WATCHDOG_S 120

extern uint64_t rt_4k, rt_2m;

/* 1 if runnable; else prints "skip: <reason>" and returns 0. */
int rt_require(uint64_t page_size);
#define RT_REQUIRE(ps)                     \
	do {                               \
		if (!rt_require(ps)) {     \
			skip();            \
			return;            \
		}                          \
	} while (0)

/* One cmocka entry per page size, named fn_4k and fn_2m. */
#define RT_BOTH(fn)                                                \
	{#fn "_4k", fn, rt_setup, rt_teardown, &rt_4k},            \
	{#fn "_2m", fn, rt_setup, rt_teardown, &rt_2m}
#define RT_ONE(fn) {#fn, fn, rt_setup, rt_teardown, NULL}

/* The page size a prestate test runs with. */
uint64_t rt_page_size(void **state);
int rt_setup(void **state);
int rt_teardown(void **state);

/* Wait until thread `tid` of this process sleeps in kernel function `fn`
 * (per /proc/self/task/<tid>/wchan), for at most timeout_ms. 0 or
 * -ETIMEDOUT. When wchan is not readable (kernel config), waits a fixed
 * 100 ms and returns 0: the callers' checks then show any misorder. */
int rt_wait_wchan(int tid, const char *fn, int timeout_ms);

/* Wait until the thread whose tid *tid will hold (0 until it is set)
 * sleeps in the kernel (state S or D in /proc/self/task/<tid>/stat), or
 * until *done (may be NULL) becomes non-zero. 0 or -ETIMEDOUT. */
int rt_wait_sleeping(const int *tid, const int *done, int timeout_ms);

/* Run this test binary again as a child: argv (argv[0] is its name) with
 * descriptors keep[0..nkeep) as 3, 4, ... in the child. Everything else
 * of ours is close-on-exec and so not the child's: a child must not hold
 * a pipe end that keeps its own wait, or run_tests.sh's output, open.
 * exec, because ThreadSanitizer refuses threads after a threaded fork.
 * share_hold: the child shares this process's hugepage hold (its
 * descriptor arrives as 3+nkeep, named in $UFFDLAB_HUGEPAGES_LOCK_FD).
 * ignore[0..nignore): signals the child inherits as SIG_IGN. The child
 * dies with the test (PR_SET_PDEATHSIG) and dumps no core. Returns its pid
 * or -errno. */
pid_t rt_spawn(char *const argv[], const int *keep, int nkeep, int share_hold,
	       const int *ignore, int nignore);
/* waitpid, bounded: after timeout_ms the child is SIGKILLed, reaped and
 * -ETIMEDOUT returned. 0 with *status otherwise. */
int rt_wait_child(pid_t pid, int *status, int timeout_ms);
/* Read up to n bytes from fd within timeout_ms: the count, 0 at EOF,
 * -ETIMEDOUT or -errno. */
int rt_read_timeout(int fd, void *buf, int n, int timeout_ms);

#endif
