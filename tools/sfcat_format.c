// SPDX-License-Identifier: MIT
/*
 * sfcat_format.c - print consumed records as -f FORMAT says (kcat's
 * format: %t %p %o %k %s %T %h %S %K %%, backslash escapes), or as key,
 * -K delimiter, value and -D delimiter when no format is given.
 *
 * The format is compiled once into tokens, literal runs and fields, so
 * that printing a record is a walk over a short array.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfcat_int.h"

static const char fields[] = "tpoksThSK";

static void add_tok(struct sfcat_conf *conf, char field, const char *lit,
		    size_t len)
{
	struct fmt_tok *t;

	conf->fmt = sft_realloc(SFCAT, conf->fmt, conf->nfmt + 1,
				sizeof(*conf->fmt));
	t = &conf->fmt[conf->nfmt++];
	t->field = field;
	t->lit = lit;
	t->len = len;
}

/* End the literal run from @start to @end, if any. */
static void flush_lit(struct sfcat_conf *conf, const char *start,
		      const char *end)
{
	if (end > start)
		add_tok(conf, 0, start, (size_t)(end - start));
}

/**
 * sfcat_fmt_compile() - compile -f @fmt into conf->fmt.
 * @bad: set to the unknown field ("%x") on failure.
 * Return: 0, or -EINVAL.
 */
int sfcat_fmt_compile(struct sfcat_conf *conf, const char *fmt, char *bad,
		      size_t badlen)
{
	char *pool = sft_alloc(SFCAT, strlen(fmt) + 1, 1);
	char *start = pool, *out = pool;
	size_t used;
	char c;

	conf->fmt_pool = pool;
	while (*fmt) {
		if (*fmt == '\\' && (used = sft_escape(fmt + 1, &c))) {
			*out++ = c;
			fmt += used + 1;
		} else if (*fmt == '%' && fmt[1] == '%') {
			*out++ = '%';
			fmt += 2;
		} else if (*fmt == '%') {
			if (!fmt[1] || !strchr(fields, fmt[1])) {
				snprintf(bad, badlen, "%%%.1s", fmt + 1);
				return -EINVAL;
			}
			flush_lit(conf, start, out);
			add_tok(conf, fmt[1], NULL, 0);
			start = out;
			fmt += 2;
		} else {
			*out++ = *fmt++;
		}
	}
	flush_lit(conf, start, out);
	return 0;
}

/* Without -f: [key, -K delimiter,] value, -D delimiter. */
void sfcat_fmt_default(struct sfcat_conf *conf)
{
	if (conf->has_key_delim) {
		add_tok(conf, 'k', NULL, 0);
		add_tok(conf, 0, conf->key_delim.p, conf->key_delim.len);
	}
	add_tok(conf, 's', NULL, 0);
	add_tok(conf, 0, conf->delim.p, conf->delim.len);
}

void sfcat_fmt_free(struct sfcat_conf *conf)
{
	free(conf->fmt);
	free(conf->fmt_pool);
	conf->fmt = NULL;
	conf->fmt_pool = NULL;
	conf->nfmt = 0;
}

/* Bytes that may be null (@len < 0). */
static void put_bytes(const struct sfcat_conf *conf, const void *p, int64_t len,
		      FILE *f)
{
	if (len < 0 || !p) {
		if (conf->null_str)
			fputs("NULL", f);
		return;
	}
	fwrite(p, 1, (size_t)len, f);
}

static void put_headers(const struct sfcat_conf *conf,
			const struct sfshm_record *r, FILE *f)
{
	struct sfshm_hdr h;

	for (uint32_t i = 0; i < r->header_count; i++) {
		if (sfshm_record_header(r, i, &h))
			break;
		if (i)
			fputc(',', f);
		fwrite(h.key, 1, h.key_len, f);
		fputc('=', f);
		put_bytes(conf, h.value, h.value_len, f);
	}
}

static void put_field(const struct sfcat_conf *conf,
		      const struct sfshm_record *r, char field, FILE *f)
{
	switch (field) {
	case 't':
		fputs(r->topic ? r->topic : conf->topic, f);
		break;
	case 'p':
		fprintf(f, "%" PRId32, r->partition);
		break;
	case 'o':
		fprintf(f, "%" PRId64, r->offset);
		break;
	case 'k':
		put_bytes(conf, r->key, r->key_len, f);
		break;
	case 's':
		put_bytes(conf, r->value, r->value_len, f);
		break;
	case 'T':
		fprintf(f, "%" PRId64, r->timestamp);
		break;
	case 'h':
		put_headers(conf, r, f);
		break;
	case 'S':
		fprintf(f, "%" PRId32, r->value_len);
		break;
	case 'K':
		fprintf(f, "%" PRId32, r->key_len);
		break;
	}
}

/* Print @r by the compiled format. */
void sfcat_fmt_print(const struct sfcat_conf *conf,
		     const struct sfshm_record *r, FILE *f)
{
	for (size_t i = 0; i < conf->nfmt; i++) {
		const struct fmt_tok *t = &conf->fmt[i];

		if (t->field)
			put_field(conf, r, t->field, f);
		else
			fwrite(t->lit, 1, t->len, f);
	}
}
