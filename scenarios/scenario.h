/* scenarios/scenario.h — scenario files (*.scn): the parsed form.
 *
 * Contract: scn_parse_file()/scn_parse_string() return 0 and fill *out, or
 * return -1 and write one line "file:line:col: message" into err (never
 * crash, never exit). A parsed scenario is plain data: the memory, the uffd
 * features, the handler configuration, the guest contract and the threads,
 * each a list of operations with optional ordering constraints. The hash is
 * FNV-1a 64 of the file's bytes (traces refuse a changed scenario).
 */
#ifndef UFFDLAB_SCENARIO_H
#define UFFDLAB_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#define SCN_MAX_THREADS 16
#define SCN_MAX_OPS 64
#define SCN_MAX_PAGES 4096
/* 2 MiB pages are hugetlb memory on the real backend, which reserves every
 * page of a scenario; 2,048 (4 GiB) is what B22's REMOVE needs to reach
 * the 32-bit truncation (docs/HANDLER.md). */
#define SCN_MAX_2M_PAGES 2048
#define SCN_NAME_MAX 32

enum scn_op_kind {
	SCN_READ = 1,     /* read P            a = page */
	SCN_WRITE,        /* write P V         a = page, b = value (1..255) */
	SCN_REMOVE,       /* remove P..Q       a = first, b = last (inclusive) */
	SCN_PAUSE,        /* pause             stop the serve loop, keep state */
	SCN_RESUME,       /* resume            start a new serve loop */
	SCN_PREFETCH,     /* prefetch P..Q     Prefault each page from the source */
	SCN_SOURCE_FAIL,  /* source-fail P N   next N source reads of P fail;
			     N = 0 means for good. a = page, b = N */
	SCN_UNMAP,        /* unmap P..Q        munmap: UNMAP event */
	SCN_REMAP,        /* remap P..Q        mremap move: REMAP + UNMAP */
	SCN_FORK,         /* fork              FORK event */
	SCN_EXIT,         /* exit              the guest process exits: its
			     threads die, later fills get ESRCH */
	SCN_EXPORT,       /* export            the handler's snapshot diff, checked
			     against the sequential spec (docs/ORACLE.md) */
};

enum scn_role {
	SCN_GUEST = 1,    /* a vCPU: read/write */
	SCN_BALLOON,      /* Firecracker's balloon / free-page reporting: remove */
	SCN_CONTROL,      /* the orchestrator: pause/resume/prefetch/source-fail */
};

enum scn_contract {
	SCN_CONTRACT_KEEPS = 0,  /* no vCPU touches a page while it is removed */
	SCN_CONTRACT_BREAKS = 1, /* accesses may race removes: relaxed oracle */
};

struct scn_op {
	enum scn_op_kind kind;
	uint64_t a, b;
	int after_thread;  /* -1, or index of a thread whose op ... */
	int after_op;      /* ... (index) must have completed before this op */
	int line;
};

struct scn_thread {
	char name[SCN_NAME_MAX];
	enum scn_role role;
	int nops;
	struct scn_op ops[SCN_MAX_OPS];
};

/* What the snapshot holds for a page. */
enum scn_fill {
	SCN_FILL_PATTERN = 0, /* a recognisable per-page pattern (default) */
	SCN_FILL_ZERO = 1,    /* zeros */
	SCN_FILL_SENTINEL = 2, /* pattern with byte 0 = sentinel (0xC3) */
};

#define SCN_MAX_EXPECT 8
#define SCN_MAX_WHO 8

struct scn_expect {
	char invariant[32];
	int line;            /* where it was said */
	int nwho;
	struct {
		char handler[48];
		char variant[48]; /* "" = the handler as written */
	} who[SCN_MAX_WHO];
};

struct scenario {
	char path[256];
	char name[64];       /* file name without directory and .scn */
	uint64_t hash;
	uint64_t page_size;  /* 4096 or 2097152 */
	int pages;
	unsigned char fill[SCN_MAX_PAGES]; /* enum scn_fill per page */
	/* uffd features */
	int event_remove;
	int wp;              /* register WP, install read faults WP */
	int wp_async;
	int event_unmap;     /* EVENT_UNMAP: munmap queues UNMAP */
	int event_remap;     /* EVENT_REMAP: mremap queues REMAP (+ UNMAP) */
	int event_fork;      /* EVENT_FORK: fork queues FORK */
	/* handler configuration */
	int workers;         /* 0 = default */
	int retries;         /* -1 = default */
	int prefetch;        /* `handler prefetch`: the handler's own prefetcher */
	enum scn_contract contract;
	/* expectations, for the zoo: `expect INVARIANT [WHO...]`, WHO being
	 * a handler or handler/variant whose exploration of this scenario
	 * must break INVARIANT (a registered one, model/invariant.h) */
	char expect[64];     /* the first expectation's invariant, "" = none */
	int nexpect;
	struct scn_expect expects[SCN_MAX_EXPECT];
	int nthreads;
	struct scn_thread threads[SCN_MAX_THREADS];
};

int scn_parse_file(const char *path, struct scenario *out, char *err,
		   size_t errlen);
/* 1 if an expect line of s names invariant for handler (variant "" or
 * NULL: the handler as written), else 0. */
int scn_expects(const struct scenario *s, const char *handler, const char *variant,
		const char *invariant);
int scn_parse_string(const char *path, const char *text, struct scenario *out,
		     char *err, size_t errlen);
uint64_t scn_hash_bytes(const void *data, size_t len);
const char *scn_op_name(enum scn_op_kind k);

/* --- Added with the parser (additive to the frozen interface above) --- */

/* Note on struct scn_op: `after T.k` (k 1-based in the file) is stored as
 * after_thread = T's index in threads[], after_op = k - 1 (0-based). */

/* As scn_parse_string(), for len bytes that may hold NUL bytes (which are
 * then reported as an error): what scn_parse_file() uses after reading. */
int scn_parse_bytes(const char *path, const void *data, size_t len,
		    struct scenario *out, char *err, size_t errlen);

/* "guest", "balloon", "control"; "?" for anything else. */
const char *scn_role_name(enum scn_role r);

/* The *.scn files of dir (dotfiles excluded), then those of dir/zoo/, each
 * group sorted by byte order (strcmp): a deterministic corpus order. Each
 * entry is a path usable with scn_parse_file(): "dir/x.scn",
 * "dir/zoo/y.scn". Returns the count, or -errno: dir unreadable,
 * -ENOSPC more than max files, -ENAMETOOLONG a path of 256 bytes or more.
 * A missing zoo/ is not an error. */
int scn_list_dir(const char *dir, char names[][256], int max);

/* s as text the parser reads back to the same threads, operations and
 * directives (comments are not kept; comment, if not NULL, becomes the
 * first line, "# comment"). *text is malloc'd and NUL-terminated. 0 or
 * -ENOMEM. */
int scn_write(const struct scenario *s, const char *comment, char **text, size_t *len);

#endif
