#include "tests/realtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "real/hugepages.h"

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

#define SPAWN_MAX_FDS 8
#define SPAWN_MAX_ENV 512

/* The environment with $UFFDLAB_HUGEPAGES_LOCK_FD set to fd or removed;
 * built before fork, where allocating is safe. */
static char **spawn_env(int fd, char *slot, size_t slotlen)
{
	extern char **environ;
	static const char var[] = "UFFDLAB_HUGEPAGES_LOCK_FD=";
	char **env = calloc(SPAWN_MAX_ENV + 2, sizeof *env);
	if (!env)
		return NULL;
	int n = 0;
	for (char **e = environ; *e && n < SPAWN_MAX_ENV; e++)
		if (strncmp(*e, var, sizeof var - 1) != 0)
			env[n++] = *e;
	if (fd >= 0) {
		snprintf(slot, slotlen, "%s%d", var, fd);
		env[n++] = slot;
	}
	return env;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void spawn_child(char *const argv[], const int *high, int nfd,
			const int *ignore, int nignore, char **env, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126); /* the test is already gone */
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	for (int i = 0; i < nignore; i++)
		signal(ignore[i], SIG_IGN);
	for (int i = 0; i < nfd; i++)
		if (dup2(high[i], 3 + i) < 0) /* dup2 clears close-on-exec */
			_exit(125);
	execve("/proc/self/exe", argv, env);
	_exit(127);
}

pid_t rt_spawn(char *const argv[], const int *keep, int nkeep, int share_hold,
	       const int *ignore, int nignore)
{
	int src[SPAWN_MAX_FDS], high[SPAWN_MAX_FDS], nfd = 0, rc = 0;
	if (nkeep + 1 > SPAWN_MAX_FDS)
		return -EINVAL;
	if (nkeep)
		memcpy(src, keep, (size_t)nkeep * sizeof *keep);
	int nsrc = nkeep;
	if (share_hold && (src[nsrc++] = real_hugepages_lock_fd()) < 0)
		return -EBADF; /* no hold to share */
	/* Far above 3..: dup2 onto 3+i must not overwrite a later source. */
	for (; nfd < nsrc; nfd++) {
		high[nfd] = fcntl(src[nfd], F_DUPFD_CLOEXEC, 64);
		if (high[nfd] < 0) {
			rc = -errno;
			break;
		}
	}
	char slot[64];
	char **env = rc ? NULL : spawn_env(share_hold ? 3 + nkeep : -1, slot, sizeof slot);
	pid_t parent = getpid(), pid = -1;
	if (env) {
		fflush(NULL);
		pid = fork();
		if (pid == 0)
			spawn_child(argv, high, nfd, ignore, nignore, env, parent);
		rc = pid < 0 ? -errno : 0;
	} else if (!rc) {
		rc = -ENOMEM;
	}
	free(env);
	for (int i = 0; i < nfd; i++)
		close(high[i]);
	return rc ? rc : pid;
}

int rt_wait_child(pid_t pid, int *status, int timeout_ms)
{
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0); /* SIGKILL: this wait is short */
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
}

int rt_read_timeout(int fd, void *buf, int n, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rc = poll(&p, 1, timeout_ms);
	if (rc == 0)
		return -ETIMEDOUT;
	if (rc < 0)
		return -errno;
	ssize_t got = read(fd, buf, (size_t)n);
	return got < 0 ? -errno : (int)got;
}
