/* The JSON writer of json.h. */
#include "json.h"

#include <assert.h>
#include <math.h>

static void escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The comma and the key of the next member of the innermost object. */
static void key(struct json *j, const char *k)
{
	assert(j->depth >= 1 && j->depth <= JSON_DEPTH_MAX);
	if (j->members[j->depth - 1]++)
		fputc(',', j->f);
	escaped(j->f, k);
	fputc(':', j->f);
}

void json_begin(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 1;
	j->members[0] = 0;
	fputc('{', f);
	json_int(j, "schema", JSON_SCHEMA);
	assert(j->members[0] == 1);
}

void json_end(struct json *j)
{
	assert(j->depth == 1);
	fputs("}\n", j->f);
	j->depth = 0;
}

void json_object_begin(struct json *j, const char *k)
{
	assert(j->depth < JSON_DEPTH_MAX);
	key(j, k);
	fputc('{', j->f);
	j->members[j->depth++] = 0;
}

void json_object_end(struct json *j)
{
	assert(j->depth > 1);
	fputc('}', j->f);
	j->depth--;
}

void json_string(struct json *j, const char *k, const char *s)
{
	key(j, k);
	escaped(j->f, s ? s : "");
}

void json_u64(struct json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_int(struct json *j, const char *k, long long v)
{
	key(j, k);
	fprintf(j->f, "%lld", v);
}

void json_double(struct json *j, const char *k, double v, int decimals)
{
	assert(isfinite(v) && decimals >= 0 && decimals <= 17);
	key(j, k);
	fprintf(j->f, "%.*f", decimals, v);
}

void json_bool(struct json *j, const char *k, int v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *k)
{
	key(j, k);
	fputs("null", j->f);
}

void json_raw(struct json *j, const char *k, const char *raw, size_t len)
{
	key(j, k);
	fwrite(raw, 1, len, j->f);
}
