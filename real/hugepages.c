#include "real/hugepages.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define NR_PATH "/proc/sys/vm/nr_hugepages"

/* Process-wide by necessity (see the header): atexit and signal handlers
 * need to find what to give back. */
static uint64_t g_raised;             /* atomic */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_handlers;                /* under g_mu */
static struct sigaction g_old_int, g_old_term;
/* Parse a decimal number; async-signal-safe. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int any = 0;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		any = 1;
	}
	if (!any)
		return -EINVAL;
	*out = v;
	return 0;
}

static pthread_mutex_t g_lmu = PTHREAD_MUTEX_INITIALIZER;
static int g_lock_fd = -1;            /* under g_lmu */
static int g_lock_depth;              /* under g_lmu */

/* Any user may lock: the file is made 0666 (umask aside) by whoever
 * creates it, and an existing one is opened without O_CREAT, which
 * fs.protected_regular would refuse for another user's file in /tmp. */
static int open_lock_file(void)
{
	int fd = open(REAL_HUGEPAGES_LOCK, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	fd = open(REAL_HUGEPAGES_LOCK, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST)
		fd = open(REAL_HUGEPAGES_LOCK, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0666);
	return fd;
}

int real_hugepages_lock(void)
{
	int rc = 0;
	pthread_mutex_lock(&g_lmu);
	if (g_lock_fd < 0) {
		const char *inh = getenv("UFFDLAB_HUGEPAGES_LOCK_FD");
		uint64_t fd;
		if (inh && parse_u64(inh, &fd) == 0 && fd < 1u << 20 &&
		    fcntl((int)fd, F_GETFD) >= 0)
			g_lock_fd = (int)fd; /* our parent's open file: its hold */
		else
			g_lock_fd = open_lock_file();
		if (g_lock_fd < 0) {
			rc = g_lock_fd;
			g_lock_fd = -1;
			goto out;
		}
	}
	/* One open file description per process: a nested hold, or a
	 * forked child's, finds the lock already its own. */
	if (g_lock_depth == 0) {
		while (flock(g_lock_fd, LOCK_EX) != 0) {
			if (errno != EINTR) {
				rc = -errno;
				goto out;
			}
		}
	}
	g_lock_depth++;
out:
	pthread_mutex_unlock(&g_lmu);
	return rc;
}

int real_hugepages_lock_fd(void)
{
	pthread_mutex_lock(&g_lmu);
	int fd = g_lock_fd;
	pthread_mutex_unlock(&g_lmu);
	return fd;
}

void real_hugepages_unlock(void)
{
	pthread_mutex_lock(&g_lmu);
	if (g_lock_depth > 0 && --g_lock_depth == 0)
		flock(g_lock_fd, LOCK_UN);
	pthread_mutex_unlock(&g_lmu);
}

/* Read nr_hugepages with raw syscalls only (also used from signals). */
static int read_nr(uint64_t *nr)
{
	char buf[32];
	int fd = open(NR_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	int e = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -e : -EIO;
	buf[n] = 0;
	return parse_u64(buf, nr);
}

/* Write nr_hugepages; async-signal-safe. */
static int write_nr(uint64_t v)
{
	char buf[24], *p = buf + sizeof buf;
	size_t len = 0;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
		len++;
	} while (v);
	int fd = open(NR_PATH, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, p, len);
	int e = errno;
	close(fd);
	return n == (ssize_t)len ? 0 : (n < 0 ? -e : -EIO);
}

int real_hugepages_read(uint64_t *nr, uint64_t *free_pages)
{
	int rc = read_nr(nr);
	if (rc)
		return rc;
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return -errno;
	char line[128];
	rc = -ENOENT;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "HugePages_Free:", 15) == 0) {
			rc = parse_u64(line + 15, free_pages);
			break;
		}
	}
	fclose(f);
	return rc;
}

void real_hugepages_restore_now(void)
{
	uint64_t r = __atomic_exchange_n(&g_raised, 0, __ATOMIC_SEQ_CST);
	uint64_t cur;
	if (!r || read_nr(&cur))
		return;
	write_nr(cur > r ? cur - r : 0);
}

static void on_exit_restore(void)
{
	real_hugepages_restore_now();
}

static void on_signal(int sig)
{
	int saved = errno;
	real_hugepages_restore_now();
	sigaction(sig, sig == SIGINT ? &g_old_int : &g_old_term, NULL);
	/* Pending until this handler returns; then the old disposition acts. */
	raise(sig);
	errno = saved;
}

static int install_handlers(void)
{
	if (g_handlers)
		return 0;
	if (atexit(on_exit_restore))
		return -ENOMEM;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, &g_old_int) || sigaction(SIGTERM, &sa, &g_old_term))
		return -errno;
	g_handlers = 1;
	return 0;
}

int real_hugepages_reserve(uint64_t n, uint64_t *raised, char *why,
			   size_t whylen)
{
	uint64_t nr, freep;
	int rc;

	*raised = 0;
	if (n == 0)
		return 0;
	/* Without the lock file we still work, just unserialised. */
	int locked = real_hugepages_lock() == 0;
	pthread_mutex_lock(&g_mu);
	rc = real_hugepages_read(&nr, &freep);
	if (rc) {
		snprintf(why, whylen, "no hugetlb support (%s: %s)", NR_PATH,
			 strerror(-rc));
		rc = -ENOENT;
		goto out;
	}
	rc = install_handlers();
	if (rc) {
		snprintf(why, whylen, "cannot install hugepage restore handlers: %s",
			 strerror(-rc));
		goto out;
	}
	/* Count the raise before writing it, so a signal arriving between
	 * the write and the bookkeeping still gives it back. */
	__atomic_add_fetch(&g_raised, n, __ATOMIC_SEQ_CST);
	rc = write_nr(nr + n);
	if (rc) {
		__atomic_sub_fetch(&g_raised, n, __ATOMIC_SEQ_CST);
		if (freep >= n) {
			rc = 0; /* not ours to raise, but enough are free */
			goto out;
		}
		snprintf(why, whylen,
			 "cannot raise %s (%s) and only %llu huge pages are free",
			 NR_PATH, strerror(-rc), (unsigned long long)freep);
		rc = -EACCES;
		goto out;
	}
	uint64_t now = 0;
	rc = read_nr(&now);
	if (rc || now < nr + n) {
		/* The kernel found fewer pages than asked: give back what it
		 * did find, i.e. go back to where we started. */
		write_nr(nr);
		__atomic_sub_fetch(&g_raised, n, __ATOMIC_SEQ_CST);
		snprintf(why, whylen,
			 "the kernel could not provide %llu more 2 MiB huge pages (got %llu of %llu)",
			 (unsigned long long)n,
			 (unsigned long long)(now > nr ? now - nr : 0),
			 (unsigned long long)n);
		rc = -ENOMEM;
		goto out;
	}
	*raised = n;
out:
	pthread_mutex_unlock(&g_mu);
	if (locked)
		real_hugepages_unlock();
	return rc;
}

void real_hugepages_release(uint64_t raised)
{
	if (!raised)
		return;
	int locked = real_hugepages_lock() == 0;
	pthread_mutex_lock(&g_mu);
	uint64_t cur;
	__atomic_sub_fetch(&g_raised, raised, __ATOMIC_SEQ_CST);
	if (read_nr(&cur) == 0)
		write_nr(cur > raised ? cur - raised : 0);
	pthread_mutex_unlock(&g_mu);
	if (locked)
		real_hugepages_unlock();
}

uint64_t real_hugepages_raised(void)
{
	return __atomic_load_n(&g_raised, __ATOMIC_SEQ_CST);
}
