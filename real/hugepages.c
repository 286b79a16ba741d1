#include "real/hugepages.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NR_PATH "/proc/sys/vm/nr_hugepages"
#define LEDGER REAL_HUGEPAGES_DIR "/hugepages"
#define JOURNAL LEDGER "/journal"
#define OPLOCK REAL_HUGEPAGES_DIR "/hugepages.lock"
#define INHERIT_ENV "UFFDLAB_HUGEPAGES_LOCK_FD"

/* Process-wide by necessity (see the header). Everything but g_busy and
 * g_busy_tid is changed only by the thread that owns g_busy; g_held is also
 * read without it (atomically) by tests and by the give-back paths. */
static int g_busy;              /* atomic: 1 while a thread owns the state */
static int g_busy_tid;          /* atomic: that thread */
static uint64_t g_held;         /* pages this process holds raised */
static uint64_t g_pid, g_start; /* this process's ledger identity */
static int g_lock_fd = -1;      /* the hold's open lock file */
static int g_depth;             /* hold depth; >= 1 for ever when shared */
static int g_shared;            /* the hold belongs to a parent */
static int g_adopted;           /* $INHERIT_ENV looked at */
static int g_handlers, g_atexit;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
/* The signals we give back on: their default action ends the process. */
static const int g_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
/* The signals whose default action ends the process and that we see. */
/* ---------------- async-signal-safe helpers ---------------- */

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec t = {0, 1000000};
	nanosleep(&t, NULL);
}

/* Bounded text building without snprintf (not async-signal-safe). */
struct sb {
	char *p;
	size_t len, cap;
};

static void sb_str(struct sb *b, const char *s)
{
	while (*s && b->len + 1 < b->cap)
		b->p[b->len++] = *s++;
	b->p[b->len] = 0;
}

static void sb_u64(struct sb *b, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && b->len + 1 < b->cap)
		b->p[b->len++] = tmp[--n];
	b->p[b->len] = 0;
}

/* A decimal number after spaces: the rest of s, or NULL if none. */
static const char *get_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *d;
	while (*s == ' ')
		s++;
	for (d = s; *d >= '0' && *d <= '9'; d++)
		v = v * 10 + (uint64_t)(*d - '0');
	if (d == s)
		return NULL;
	*out = v;
	return d;
}

/* Up to cap-1 bytes of a small file, NUL-terminated: the length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	return n;
}

static int read_nr(uint64_t *nr)
{
	char buf[32];
	ssize_t n = read_small(NR_PATH, buf, sizeof buf);
	if (n <= 0)
		return n < 0 ? (int)n : -EIO;
	return get_u64(buf, nr) ? 0 : -EINVAL;
}

static int write_nr(uint64_t v)
{
	char buf[24];
	struct sb b = {buf, 0, sizeof buf};
	sb_u64(&b, v);
	int fd = open(NR_PATH, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, buf, b.len);
	int e = errno;
	close(fd);
	return n == (ssize_t)b.len ? 0 : (n < 0 ? -e : -EIO);
}

/* Replace path's content in one step: a kill leaves the old or the new. */
static int write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[96];
	struct sb b = {tmp, 0, sizeof tmp};
	sb_str(&b, LEDGER "/.tmp.");
	sb_u64(&b, (uint64_t)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, len);
	int e = n < 0 ? errno : (size_t)n != len ? EIO : 0;
	if (close(fd) && !e)
		e = errno;
	if (!e && rename(tmp, path))
		e = errno;
	if (e) {
		unlink(tmp);
		return -e;
	}
	return 0;
}

/* ---------------- the ledger ---------------- */

struct owner {
	uint64_t pid, start; /* start: /proc/PID/stat field 22 */
};

/* The change in flight: owner o held `held`, the pool was `base`, and it
 * is being raised (or lowered) by n. */
struct journal {
	struct owner o;
	uint64_t held, base, n;
	int raise;
};

static void record_path(char *buf, size_t cap, uint64_t pid)
{
	struct sb b = {buf, 0, cap};
	sb_str(&b, LEDGER "/");
	sb_u64(&b, pid);
}

/* An owner's record; none when it holds nothing. */
static int record_write(const struct owner *o, uint64_t held)
{
	char path[64], text[80];
	record_path(path, sizeof path, o->pid);
	if (held == 0)
		return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
	struct sb b = {text, 0, sizeof text};
	sb_u64(&b, o->pid);
	sb_str(&b, " ");
	sb_u64(&b, o->start);
	sb_str(&b, " ");
	sb_u64(&b, held);
	sb_str(&b, "\n");
	return write_atomic(path, text, b.len);
}

static int record_read(uint64_t pid, struct owner *o, uint64_t *held)
{
	char path[64], text[80];
	record_path(path, sizeof path, pid);
	ssize_t n = read_small(path, text, sizeof text);
	if (n < 0)
		return (int)n;
	const char *p = get_u64(text, &o->pid);
	p = p ? get_u64(p, &o->start) : NULL;
	p = p ? get_u64(p, held) : NULL;
	return p && o->pid == pid ? 0 : -EBADMSG;
}

static int journal_write(const struct journal *j)
{
	char text[128];
	struct sb b = {text, 0, sizeof text};
	uint64_t f[5] = {j->o.pid, j->o.start, j->held, j->base, j->n};
	for (int i = 0; i < 5; i++) {
		sb_str(&b, i == 4 ? (j->raise ? " +" : " -") : i ? " " : "");
		sb_u64(&b, f[i]);
	}
	sb_str(&b, "\n");
	return write_atomic(JOURNAL, text, b.len);
}

static int journal_read(struct journal *j)
{
	char text[128];
	ssize_t n = read_small(JOURNAL, text, sizeof text);
	if (n < 0)
		return (int)n;
	uint64_t *f[4] = {&j->o.pid, &j->o.start, &j->held, &j->base};
	const char *p = text;
	for (int i = 0; i < 4 && p; i++)
		p = get_u64(p, f[i]);
	if (!p || p[0] != ' ' || (p[1] != '+' && p[1] != '-'))
		return -EBADMSG;
	j->raise = p[1] == '+';
	return get_u64(p + 2, &j->n) ? 0 : -EBADMSG;
}

static uint64_t target_of(const struct journal *j)
{
	if (j->raise)
		return j->base + j->n;
	return j->base > j->n ? j->base - j->n : 0;
}

/* What the owner holds once the pool reads cur after the change: the
 * kernel may have found fewer pages than asked, and a pool already below
 * what is given back (lowered by hand) is forgiven the rest. */
static uint64_t held_after(const struct journal *j, uint64_t cur)
{
	uint64_t moved;
	if (j->raise) {
		moved = cur <= j->base ? 0 : cur - j->base;
		moved = moved < j->n ? moved : j->n;
		return j->held + moved;
	}
	if (cur <= target_of(j))
		moved = j->n;
	else
		moved = cur >= j->base ? 0 : j->base - cur;
	return j->held > moved ? j->held - moved : 0;
}

/* Move the pool for j->o, journal first, so that a kill at any instant
 * leaves a ledger that says what the owner holds; then the owner's new
 * record, and the journal goes. *after: what the owner holds now (also on
 * error). Under the change lock; async-signal-safe. */
static int pool_change(struct journal *j, uint64_t *after)
{
	*after = j->held;
	int rc = read_nr(&j->base);
	if (rc)
		return rc;
	if ((rc = journal_write(j)))
		return rc;
	int wrc = write_nr(target_of(j));
	uint64_t cur = 0;
	if ((rc = read_nr(&cur))) {
		/* The journal stays for the next change to settle. */
		*after = wrc ? j->held : held_after(j, target_of(j));
		return rc;
	}
	*after = held_after(j, cur);
	rc = record_write(&j->o, *after);
	if (rc == 0)
		rc = unlink(JOURNAL) ? -errno : 0;
	return wrc ? wrc : rc;
}

/* A change its maker did not finish (it died, or failed half-way) must be
 * settled before the pool moves again: its base is only valid until then. */
static int journal_settle(void)
{
	struct journal j;
	int rc = journal_read(&j);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	uint64_t cur = 0;
	if ((rc = read_nr(&cur)))
		return rc;
	if ((rc = record_write(&j.o, held_after(&j, cur))))
		return rc;
	return unlink(JOURNAL) ? -errno : 0;
}

/* Start time and state of a process; -ENOENT when it is gone. */
static int proc_stat(uint64_t pid, uint64_t *start, char *state)
{
	char path[48], buf[1024];
	struct sb b = {path, 0, sizeof path};
	sb_str(&b, "/proc/");
	sb_u64(&b, pid);
	sb_str(&b, "/stat");
	ssize_t n = read_small(path, buf, sizeof buf);
	if (n < 0)
		return (int)n;
	/* "pid (comm) S f4 ... f22": fields after the last ')' */
	const char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EBADMSG;
	*state = p[2];
	p += 2;
	for (int f = 3; f < 22 && p; f++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	return p && get_u64(p, start) ? 0 : -EBADMSG;
}

/* Could o still use its pages? A zombie or a reused pid cannot. When we
 * cannot tell, it may: never take a live process's pages. */
static int alive(const struct owner *o)
{
	uint64_t start;
	char state;
	int rc = proc_stat(o->pid, &start, &state);
	if (rc == -ENOENT || rc == -ESRCH)
		return 0;
	if (rc)
		return 1;
	return state != 'Z' && state != 'X' && start == o->start;
}

/* Give back what one dead owner held. */
static int reclaim_one(uint64_t pid)
{
	struct journal j = {.raise = 0};
	int rc = record_read(pid, &j.o, &j.held);
	if (rc == -ENOENT)
		return 0;
	if (rc || alive(&j.o))
		return rc;
	j.n = j.held;
	uint64_t after;
	return pool_change(&j, &after);
}

/* Settle the journal, then give back what dead owners hold. Under the
 * change lock; not async-signal-safe (directory listing). */
static int tidy(void)
{
	int rc = journal_settle();
	if (rc)
		return rc;
	DIR *d = opendir(LEDGER);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		uint64_t pid;
		const char *end;
		if (strncmp(e->d_name, ".tmp.", 5) == 0) {
			/* a writer killed between write and rename */
			end = get_u64(e->d_name + 5, &pid);
			if (end && !*end && kill((pid_t)pid, 0) && errno == ESRCH)
				unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		end = get_u64(e->d_name, &pid);
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && end && !*end)
			rc = reclaim_one(pid);
	}
	closedir(d);
	return rc;
}

static int ensure_ledger(void)
{
	if (mkdir(REAL_HUGEPAGES_DIR, 0755) && errno != EEXIST)
		return -errno;
	if (mkdir(LEDGER, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* This process's identity in the ledger (a forked child gets its own). */
static int identify(void)
{
	uint64_t pid = (uint64_t)getpid();
	char state;
	if (g_pid == pid)
		return 0;
	int rc = proc_stat(pid, &g_start, &state);
	if (rc == 0)
		g_pid = pid;
	return rc;
}

/* ---------------- locks ---------------- */

/* The state is this thread's; async-signal-safe, bounded by deadline. */
static int busy_enter(int64_t deadline)
{
	for (;;) {
		int zero = 0;
		if (__atomic_compare_exchange_n(&g_busy, &zero, 1, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			__atomic_store_n(&g_busy_tid, gettid(), __ATOMIC_RELAXED);
			return 0;
		}
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nap();
	}
}

static void busy_leave(void)
{
	__atomic_store_n(&g_busy_tid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g_busy, 0, __ATOMIC_RELEASE);
}

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

/* Under g_busy. Polls, because a blocking flock cannot be bounded. */
static int hold_enter(int64_t deadline)
{
	if (g_depth > 0) {
		g_depth++;
		return 0;
	}
	if (g_lock_fd < 0) {
		int fd = open_lock_file();
		if (fd < 0)
			return fd;
		g_lock_fd = fd;
	}
	while (flock(g_lock_fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nap();
	}
	g_depth = 1;
	return 0;
}

/* Under g_busy. A shared hold is the parent's: flock(LOCK_UN) on the
 * shared open file would drop the parent's hold too. */
static void hold_leave(void)
{
	if (g_depth == 0 || (g_shared && g_depth == 1))
		return;
	if (--g_depth == 0)
		flock(g_lock_fd, LOCK_UN);
}

/* The change lock: an OFD lock on a descriptor of its own, so it excludes
 * every other change, a forked child's and a hold sharer's included. */
static int oplock_enter(int64_t deadline)
{
	int fd = open(OPLOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	while (fcntl(fd, F_OFD_SETLK, &fl)) {
		int e = errno;
		if ((e != EAGAIN && e != EACCES && e != EINTR) ||
		    now_ms() >= deadline) {
			close(fd);
			return e == EAGAIN || e == EACCES || e == EINTR ? -ETIMEDOUT : -e;
		}
		nap();
	}
	return fd;
}

/* A holder that exec'ed us passed its open lock file: share its hold. The
 * descriptor must be that file (a stale variable may name another one). */
static void adopt_inherited(void)
{
	if (g_adopted)
		return;
	g_adopted = 1;
	const char *s = getenv(INHERIT_ENV);
	const char *end;
	uint64_t fd;
	struct stat a, b;
	if (!s || !(end = get_u64(s, &fd)) || *end || fd > INT_MAX ||
	    fstat((int)fd, &a) || stat(REAL_HUGEPAGES_LOCK, &b) ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino || g_depth)
		return;
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	if (g_lock_fd >= 0)
		close(g_lock_fd);
	g_lock_fd = (int)fd;
	g_depth = 1;
	g_shared = 1;
}

/* A forked child holds none of its parent's pages; it shares its hold when
 * the parent held one, else it must not lock the parent's open file. */
static void forked_child(void)
{
	__atomic_store_n(&g_busy, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g_busy_tid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g_held, 0, __ATOMIC_RELAXED);
	g_pid = 0;
	if (g_depth > 0) {
		g_depth = 1;
		g_shared = 1;
	} else if (g_lock_fd >= 0) {
		close(g_lock_fd);
		g_lock_fd = -1;
	}
}

static void init_once(void)
{
	pthread_atfork(NULL, NULL, forked_child);
}

struct session {
	int fd;         /* the change lock, or -1 */
	int stolen;     /* busy taken over from an interrupted wait */
	sigset_t saved; /* the thread's mask before */
};

enum { S_NORMAL, S_SIGNAL, S_STEAL };

static void session_end(struct session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	hold_leave();
	if (!s->stolen)
		busy_leave();
	/* last: a signal that came meanwhile is handled now, with the
	 * state free for its handler */
	pthread_sigmask(SIG_SETMASK, &s->saved, NULL);
}

/* busy, hold and change lock, in that order, all bounded by wait_ms; 0 or
 * -errno (nothing held then). From the hold on, the signals we handle are
 * blocked in this thread (not before: a Ctrl-C must not wait for another
 * suite's hold), so a handler never finds this thread inside a change:
 * it runs once the change is complete or, interrupting a wait for the
 * hold, takes the state over (S_STEAL; the process ends after it).
 * Async-signal-safe unless S_NORMAL (adopting the inherited hold: getenv). */
static int session_begin(struct session *s, int wait_ms, int mode)
{
	int64_t deadline = now_ms() + wait_ms;
	int rc = mode == S_STEAL ? 0 : busy_enter(deadline);
	if (rc)
		return rc;
	s->stolen = mode == S_STEAL;
	if (mode == S_NORMAL)
		adopt_inherited();
	if ((rc = hold_enter(deadline))) {
		if (!s->stolen)
			busy_leave();
		return rc;
	}
	sigset_t block;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof g_sigs / sizeof g_sigs[0]; i++)
		sigaddset(&block, g_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &block, &s->saved);
	s->fd = oplock_enter(deadline);
	if (s->fd >= 0)
		return 0;
	rc = s->fd;
	session_end(s);
	return rc;
}

/* ---------------- giving back ---------------- */

/* Lower the pool by k of what this process holds. Under the session. */
static int give_back_locked(uint64_t k)
{
	uint64_t held = __atomic_load_n(&g_held, __ATOMIC_SEQ_CST);
	if (k > held)
		k = held; /* never what is not ours (given back by a signal) */
	if (!k)
		return 0;
	struct journal j = {.o = {g_pid, g_start}, .held = held, .n = k};
	uint64_t after;
	int rc = pool_change(&j, &after);
	__atomic_store_n(&g_held, after, __ATOMIC_SEQ_CST);
	return rc;
}

void real_hugepages_restore_now(void)
{
	/* nothing held and no change under way: a signal handled on one
	 * thread while another raises the pool (g_held still 0, the journal
	 * written) must wait for that change and give it back, or the
	 * process dies with the pool raised and only the journal saying so */
	if (!__atomic_load_n(&g_held, __ATOMIC_SEQ_CST) &&
	    !__atomic_load_n(&g_busy, __ATOMIC_SEQ_CST))
		return;
	/* This very thread owns the state: only a signal handler can find
	 * it so, and then (signals being blocked during changes) it
	 * interrupted a wait for the hold, which it may take over. */
	int mine = __atomic_load_n(&g_busy_tid, __ATOMIC_RELAXED) == gettid();
	struct session s;
	if (session_begin(&s, REAL_HUGEPAGES_EXIT_WAIT_MS, mine ? S_STEAL : S_SIGNAL))
		return; /* the ledger keeps it for the next process */
	if (journal_settle() == 0)
		give_back_locked(__atomic_load_n(&g_held, __ATOMIC_SEQ_CST));
	session_end(&s);
}

static void on_exit_restore(void)
{
	real_hugepages_restore_now();
}

static void on_signal(int sig)
{
	int saved = errno;
	real_hugepages_restore_now();
	/* Only ever installed over SIG_DFL: the default action follows,
	 * pending until this handler returns. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig);
	errno = saved;
}

/* Over SIG_DFL only: an ignored signal (nohup, `cmd &`) must stay ignored,
 * and a program's own handler is the program's business; the ledger
 * covers a death we do not see. Under g_busy. */
static int install_handlers(void)
{
	if (!g_atexit) {
		if (atexit(on_exit_restore))
			return -ENOMEM;
		g_atexit = 1;
	}
	if (g_handlers)
		return 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof g_sigs / sizeof g_sigs[0]; i++) {
		struct sigaction old;
		if (sigaction(g_sigs[i], NULL, &old))
			return -errno;
		if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL &&
		    sigaction(g_sigs[i], &sa, NULL))
			return -errno;
	}
	g_handlers = 1;
	return 0;
}

/* ---------------- the entry points ---------------- */

/* The pool cannot be raised here (no root, read-only /proc/sys, no
 * ledger): the pages must already be free. */
static int use_free(uint64_t n, int why_rc, char *why, size_t whylen)
{
	uint64_t nr, freep;
	int rc = real_hugepages_read(&nr, &freep);
	if (rc == 0 && freep >= n)
		return 0;
	snprintf(why, whylen,
		 "cannot raise %s (%s) and only %llu huge pages are free",
		 NR_PATH, strerror(-why_rc), (unsigned long long)(rc ? 0 : freep));
	return -EACCES;
}

static int cannot_write(int rc)
{
	return rc == -EACCES || rc == -EPERM || rc == -EROFS;
}

/* Raise by n for this process. Under the session; 1 = cannot raise here. */
static int raise_locked(uint64_t n, char *why, size_t whylen)
{
	int rc = identify();
	if (rc == 0)
		rc = install_handlers();
	if (rc) {
		snprintf(why, whylen, "hugepage bookkeeping: %s", strerror(-rc));
		return rc;
	}
	uint64_t held = __atomic_load_n(&g_held, __ATOMIC_SEQ_CST), after;
	struct journal j = {.o = {g_pid, g_start}, .held = held, .n = n, .raise = 1};
	rc = pool_change(&j, &after);
	__atomic_store_n(&g_held, after, __ATOMIC_SEQ_CST);
	uint64_t got = after - held;
	if (rc == 0 && got == n)
		return 0;
	/* The kernel found fewer pages than asked (or the write failed half
	 * way): give back what it did find. */
	int brc = give_back_locked(got);
	if (rc && cannot_write(rc) && brc == 0)
		return 1;
	if (rc || brc) {
		snprintf(why, whylen, "hugepage pool %s: %s", NR_PATH,
			 strerror(-(rc ? rc : brc)));
		return rc ? rc : brc;
	}
	snprintf(why, whylen,
		 "the kernel could not provide %llu more 2 MiB huge pages (got %llu of %llu)",
		 (unsigned long long)n, (unsigned long long)got,
		 (unsigned long long)n);
	return -ENOMEM;
}

static int lock_timeout(char *why, size_t whylen)
{
	snprintf(why, whylen,
		 "the hugepage pool lock (%s, %s) stayed held by another process for %d s",
		 REAL_HUGEPAGES_LOCK, OPLOCK, REAL_HUGEPAGES_WAIT_MS / 1000);
	return -ETIMEDOUT;
}

int real_hugepages_reserve(uint64_t n, uint64_t *raised, char *why,
			   size_t whylen)
{
	uint64_t nr, freep;
	*raised = 0;
	if (n == 0)
		return 0;
	int rc = real_hugepages_read(&nr, &freep);
	if (rc) {
		snprintf(why, whylen, "cannot read the hugetlb pool (%s: %s)",
			 NR_PATH, strerror(-rc));
		return -ENOENT;
	}
	pthread_once(&g_once, init_once);
	struct session s;
	rc = ensure_ledger();
	if (rc == 0)
		rc = session_begin(&s, REAL_HUGEPAGES_WAIT_MS, S_NORMAL);
	if (rc == -ETIMEDOUT)
		return lock_timeout(why, whylen);
	if (rc)
		return use_free(n, rc, why, whylen);
	rc = tidy();
	if (rc == 0)
		rc = raise_locked(n, why, whylen);
	else if (!cannot_write(rc))
		snprintf(why, whylen, "giving back dead processes' huge pages (ledger %s): %s",
			 LEDGER, strerror(-rc));
	session_end(&s);
	if (rc == 1 || cannot_write(rc))
		return use_free(n, rc == 1 ? -EACCES : rc, why, whylen);
	if (rc == 0)
		*raised = n;
	return rc;
}

int real_hugepages_release(uint64_t raised)
{
	if (!raised || !__atomic_load_n(&g_held, __ATOMIC_SEQ_CST))
		return 0;
	struct session s;
	int rc = session_begin(&s, REAL_HUGEPAGES_WAIT_MS, S_NORMAL);
	if (rc)
		return rc; /* still in the ledger: given back at exit or after */
	rc = tidy();
	if (rc == 0)
		rc = give_back_locked(raised);
	session_end(&s);
	return rc;
}

uint64_t real_hugepages_raised(void)
{
	return __atomic_load_n(&g_held, __ATOMIC_SEQ_CST);
}

int real_hugepages_lock(void)
{
	pthread_once(&g_once, init_once);
	int64_t deadline = now_ms() + REAL_HUGEPAGES_WAIT_MS;
	int rc = busy_enter(deadline);
	if (rc)
		return rc;
	adopt_inherited();
	int first = g_depth == 0;
	rc = hold_enter(deadline);
	busy_leave();
	if (rc || !first)
		return rc;
	/* A clean pool for the holder's exact counts: no dead owner's pages
	 * left to be given back in the middle of them. */
	struct session s;
	if (access(LEDGER, F_OK) == 0 &&
	    session_begin(&s, REAL_HUGEPAGES_WAIT_MS, S_NORMAL) == 0) {
		(void)tidy(); /* reported by the next reserve, which tries again */
		session_end(&s);
	}
	return 0;
}

int real_hugepages_unlock(void)
{
	int rc = busy_enter(now_ms() + REAL_HUGEPAGES_WAIT_MS);
	if (rc)
		return rc;
	hold_leave();
	busy_leave();
	return 0;
}

int real_hugepages_lock_fd(void)
{
	return __atomic_load_n(&g_lock_fd, __ATOMIC_SEQ_CST);
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
			rc = get_u64(line + 15, free_pages) ? 0 : -EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

int real_hugepages_owner(uint64_t pid, uint64_t *held)
{
	struct owner o;
	return record_read(pid, &o, held);
}
