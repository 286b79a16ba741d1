/* tests/conform_log.c — the observation log and content-class names of
 * the conformance probes (contract in tests/conform.h). */
#include "tests/conform.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void clog_init(struct clog *l)
{
	l->n = 0;
	l->overflow = 0;
}

void clog_add(struct clog *l, const char *fmt, ...)
{
	if (l->n >= CLOG_LINES) {
		/* counted, so that a full log cannot pass for a short one */
		l->overflow++;
		return;
	}
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->line[l->n], CLOG_LINE, fmt, ap);
	va_end(ap);
	l->n++;
}

int clog_has_error(const struct clog *l)
{
	if (l->overflow)
		return 1;
	for (int i = 0; i < l->n; i++)
		if (strncmp(l->line[i], "ERROR", 5) == 0)
			return 1;
	return 0;
}

const char *cc_str(struct cc c, char *buf, size_t n)
{
	switch (c.kind) {
	case CC_NONE: snprintf(buf, n, "-"); break;
	case CC_ZERO: snprintf(buf, n, "zero"); break;
	case CC_SNAP: snprintf(buf, n, "snap(%d)", c.arg); break;
	case CC_WRITE: snprintf(buf, n, "write(0x%02x)", c.arg); break;
	default: snprintf(buf, n, "other"); break;
	}
	return buf;
}
