/* json.h — the one JSON writer behind every command's --json output.
 *
 * Contract: json_begin() opens the top-level object and writes its first
 * key, "schema": JSON_SCHEMA (an integer, raised when a key changes
 * meaning or goes away); json_end() closes it with a newline. In between,
 * each json_* call writes one member "key": value of the innermost open
 * object, commas placed for the caller; strings are escaped (quote,
 * backslash, control characters). Objects nest up to JSON_DEPTH_MAX.
 * Write errors show in ferror() of the stream, as for any stdio output.
 */
#ifndef UFFDLAB_JSON_H
#define UFFDLAB_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_SCHEMA 1
#define JSON_DEPTH_MAX 8

struct json {
	FILE *f;
	int depth;                    /* objects open, the top one included */
	int members[JSON_DEPTH_MAX];  /* written so far, per open object */
};

void json_begin(struct json *j, FILE *f);
void json_end(struct json *j);
/* "key": { ... } */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_string(struct json *j, const char *key, const char *s);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, long long v);
/* A number with `decimals` digits after the point (finite v only). */
void json_double(struct json *j, const char *key, double v, int decimals);
void json_bool(struct json *j, const char *key, int v);
void json_null(struct json *j, const char *key);
/* A value that is already JSON (read back from this writer's output:
 * uffdlab merge copies a shard's violation as it was). */
void json_raw(struct json *j, const char *key, const char *raw, size_t len);

#endif
