// SPDX-License-Identifier: MIT
/*
 * sfctl_json.c - a small streaming JSON writer, indented two spaces.
 *
 * Strings are escaped as RFC 8259 asks: quote, backslash and control
 * characters; bytes that are not valid UTF-8 (a path may hold any) become
 * U+FFFD so that the document always parses.
 */
#include <stdio.h>
#include <string.h>

#include "sfctl_int.h"

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Length of the valid UTF-8 sequence at @s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void put_char(FILE *f, unsigned char c)
{
	static const char from[] = "\"\\\b\f\n\r\t";
	static const char to[] = "\"\\bfnrt";
	const char *p = c ? strchr(from, c) : NULL;

	if (p)
		fprintf(f, "\\%c", to[p - from]);
	else if (c < 0x20 || c == 0x7f)
		fprintf(f, "\\u%04x", c);
	else
		fputc(c, f);
}

static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	fputc('"', f);
	while (*p) {
		n = utf8_len(p);
		if (n == 1)
			put_char(f, *p);
		else if (n)
			fwrite(p, 1, n, f);
		else
			fputs("\\ufffd", f);
		p += n ? n : 1;
	}
	fputc('"', f);
}

/* Separator, indentation and key before a value. */
static void put_key(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->has_items[j->depth])
			fputc(',', j->f);
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
		j->has_items[j->depth] = true;
	}
	if (key) {
		put_string(j->f, key);
		fputs(": ", j->f);
	}
}

static void open_container(struct json *j, const char *key, char c)
{
	put_key(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void close_container(struct json *j, char c)
{
	bool items = j->has_items[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (items)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	fputc(c, j->f);
	if (!j->depth)
		fputc('\n', j->f);
}

void json_obj_begin(struct json *j, const char *key)
{
	open_container(j, key, '{');
}

void json_obj_end(struct json *j)
{
	close_container(j, '}');
}

void json_arr_begin(struct json *j, const char *key)
{
	open_container(j, key, '[');
}

void json_arr_end(struct json *j)
{
	close_container(j, ']');
}

void json_str(struct json *j, const char *key, const char *s)
{
	put_key(j, key);
	put_string(j->f, s);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	put_key(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	put_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	put_key(j, key);
	fputs(v ? "true" : "false", j->f);
}
