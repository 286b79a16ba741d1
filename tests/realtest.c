#include "tests/realtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "real/region.h"
#include "real/watchdog.h"

uint64_t rt_4k = 4096;
uint64_t rt_2m = 2ull << 20;

int rt_require(uint64_t page_size)
{
	char why[256];
	if (real_uffd_available(why, sizeof why)) {
		printf("skip: %s\n", why);
		return 0;
	}
	if (page_size == rt_2m && real_hugetlb_available(why, sizeof why)) {
		printf("skip: no 2 MiB hugepages: %s\n", why);
		return 0;
	}
	return 1;
}

uint64_t rt_page_size(void **state)
{
	return state && *state ? *(uint64_t *)*state : rt_4k;
}

int rt_setup(void **state)
{
	(void)state;
	return real_watchdog_arm(RT_WATCHDOG_S, program_invocation_short_name) ? -1 : 0;
}

int rt_teardown(void **state)
{
	(void)state;
	real_watchdog_disarm();
	return 0;
}

int rt_wait_wchan(int tid, const char *fn, int timeout_ms)
{
	char path[64], buf[128];
	snprintf(path, sizeof path, "/proc/self/task/%d/wchan", tid);
	for (int waited = 0;; waited++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = -1;
		if (fd >= 0) {
			n = read(fd, buf, sizeof buf - 1);
			close(fd);
		}
		if (n <= 0 || (n == 1 && buf[0] == '0')) {
			usleep(100 * 1000);
			return 0;
		}
		buf[n] = 0;
		if (strcmp(buf, fn) == 0)
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

static char thread_state(int tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "tid (comm) S ...": the state follows the last ')' */
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

int rt_wait_sleeping(const int *tid, const int *done, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited++) {
		if (done && __atomic_load_n(done, __ATOMIC_SEQ_CST))
			return 0;
		int t = __atomic_load_n(tid, __ATOMIC_SEQ_CST);
		if (t) {
			char st = thread_state(t);
			if (st == 'S' || st == 'D')
				return 0;
		}
		usleep(1000);
	}
	return -ETIMEDOUT;
}
