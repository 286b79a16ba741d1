/* The scenario library's roots, in the order scenarios/library.h gives. */
#include "scenarios/library.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Root i (0: installed, 1: $UFFDLAB_SCENARIOS, 2: cwd) into out; 0 if it
 * does not apply here. */
static int root(int i, char *out, size_t n)
{
	assert(n >= 2);
	if (i == 0) {
		char exe[PATH_MAX];
		ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (l <= 0)
			return 0;
		exe[l] = '\0';
		char *slash = strrchr(exe, '/');
		if (!slash || slash - exe < 4 || strncmp(slash - 4, "/bin", 4))
			return 0; /* not <prefix>/bin/uffdlab: a build tree */
		slash[-4] = '\0';
		return snprintf(out, n, "%s/share/uffdlab", exe) < (int)n;
	}
	if (i == 1) {
		const char *env = getenv("UFFDLAB_SCENARIOS");
		if (!env || !*env)
			return 0;
		int w = snprintf(out, n, "%s", env);
		char *slash = w > 0 && w < (int)n ? strrchr(out, '/') : NULL;
		if (slash)
			*slash = '\0'; /* its parent, so that "scenarios/x" maps */
		else if (w > 0 && w < (int)n)
			snprintf(out, n, ".");
		return w > 0 && w < (int)n;
	}
	return snprintf(out, n, ".") < (int)n;
}

const char *scn_library(char *out, size_t n)
{
	char r[PATH_MAX];
	for (int i = 0; i < 3; i++) {
		if (!root(i, r, sizeof r))
			continue;
		if (i == 1) { /* the variable names the directory itself */
			snprintf(out, n, "%s", getenv("UFFDLAB_SCENARIOS"));
			if (is_dir(out))
				return out;
			continue;
		}
		/* the working directory's is plain "scenarios": the names that
		 * traces and tables show stay as they always were */
		if (snprintf(out, n, i == 2 ? "scenarios" : "%s/scenarios", r) < (int)n &&
		    is_dir(out))
			return out;
	}
	snprintf(out, n, "scenarios");
	return out;
}

const char *scn_resolve(const char *path, char *out, size_t n)
{
	struct stat st;
	snprintf(out, n, "%s", path);
	if (stat(path, &st) == 0 || path[0] == '/')
		return out;
	char r[PATH_MAX];
	for (int i = 0; i < 2; i++) {
		if (!root(i, r, sizeof r))
			continue;
		char cand[PATH_MAX];
		if (snprintf(cand, sizeof cand, "%s/%s", r, path) < (int)sizeof cand &&
		    stat(cand, &st) == 0) {
			snprintf(out, n, "%s", cand);
			return out;
		}
	}
	return out; /* as given: the open names it in its error */
}
