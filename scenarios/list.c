/* scenarios/list.c — scn_list_dir(): the scenario corpus of a directory, in
 * a deterministic order (readdir's order depends on the file system).
 * See scenario.h for the contract. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenarios/scenario.h"

static int is_scn(const char *name)
{
	size_t n = strlen(name);

	/* like the shell's *.scn: no dotfiles, something before ".scn" */
	return name[0] != '.' && n > 4 && !strcmp(name + n - 4, ".scn");
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Append dir's *.scn regular files to names[*n..max), sorted. */
static int list_one(const char *dir, char names[][256], int *n, int max,
		    int missing_ok)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int first = *n, rc = 0;

	if (!d)
		return (missing_ok && (errno == ENOENT || errno == ENOTDIR))
			       ? 0
			       : -errno;
	for (;;) {
		struct stat st;
		char path[256];
		int len;

		errno = 0;
		de = readdir(d);
		if (!de) {
			rc = errno ? -errno : 0;
			break;
		}
		if (!is_scn(de->d_name))
			continue;
		len = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (stat(path, &st) != 0) {
			rc = -errno;
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (*n >= max) {
			rc = -ENOSPC;
			break;
		}
		memcpy(names[(*n)++], path, (size_t)len + 1);
	}
	closedir(d);
	if (rc == 0 && *n > first)
		qsort(names[first], (size_t)(*n - first), sizeof(names[0]),
		      cmp_name);
	return rc;
}

int scn_list_dir(const char *dir, char names[][256], int max)
{
	char base[256], zoo[256];
	size_t len;
	int n = 0, rc;

	if (!dir)
		return -EINVAL;
	len = strlen(dir);
	if (len >= sizeof(base))
		return -ENAMETOOLONG;
	memcpy(base, dir, len + 1);
	/* "scenarios/" and "scenarios" list the same paths */
	while (len > 1 && base[len - 1] == '/')
		base[--len] = '\0';
	if (snprintf(zoo, sizeof(zoo), "%s/zoo", base) >= (int)sizeof(zoo))
		return -ENAMETOOLONG;
	rc = list_one(base, names, &n, max, 0);
	if (rc == 0)
		rc = list_one(zoo, names, &n, max, 1);
	return rc < 0 ? rc : n;
}
