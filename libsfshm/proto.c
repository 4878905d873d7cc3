// SPDX-License-Identifier: MIT
/*
 * proto.c - encoder and (untrusting) decoder of the control protocol.
 * The format is described in proto.h.
 */
#include <errno.h>
#include <string.h>

#include "proto.h"

/* Nested attribute types: their values are attribute areas themselves. */
static bool is_nested(uint16_t type)
{
	return type == SFA_TOPIC_INFO || type == SFA_PART_INFO ||
	       type == SFA_TP || type == SFA_GROUP_INFO || type == SFA_MEMBER;
}

static uint32_t align4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Check an attribute area, recursively; fill @t (may be NULL). */
static int check_area(const uint8_t *p, uint32_t len, unsigned depth,
		      struct sfp_table *t)
{
	if (depth > SFP_MAX_DEPTH)
		return -EPROTO;
	while (len) {
		uint16_t alen, type;

		if (len < SFP_ATTR_HDR)
			return -EPROTO;
		alen = get16(p);
		type = get16(p + 2);
		if (alen < SFP_ATTR_HDR || alen > len)
			return -EPROTO;
		if (is_nested(type) &&
		    check_area(p + SFP_ATTR_HDR, alen - SFP_ATTR_HDR, depth + 1,
			       NULL))
			return -EPROTO;
		if (t && type < SFP_MAX_ATTR && !t->present[type]) {
			t->present[type] = true;
			t->a[type] = (struct sfp_attr){
				.val = p + SFP_ATTR_HDR,
				.len = (uint16_t)(alen - SFP_ATTR_HDR),
				.type = type,
			};
		}
		/* The last attribute may omit its padding. */
		if (align4(alen) >= len)
			break;
		p += align4(alen);
		len -= align4(alen);
	}
	return 0;
}

int sfp_parse(const void *buf, size_t len, struct sfp_msg *m)
{
	const uint8_t *p = buf;

	memset(m, 0, sizeof(*m));
	if (len < SFP_HDR_SIZE || len > SFP_MAX_MSG)
		return -EPROTO;
	m->len = get32(p);
	m->type = get16(p + 4);
	m->version = p[6];
	m->flags = p[7];
	m->seq = get32(p + 8);
	m->status = (int32_t)get32(p + 12);
	if (m->len != len)
		return -EPROTO;
	if (m->version != SFP_VERSION)
		return -EPROTONOSUPPORT;
	m->attrs = p + SFP_HDR_SIZE;
	m->attrs_len = m->len - SFP_HDR_SIZE;
	return check_area(m->attrs, m->attrs_len, 0, &m->t);
}

int sfp_parse_nested(const struct sfp_attr *a, struct sfp_table *t)
{
	memset(t, 0, sizeof(*t));
	if (!is_nested(a->type))
		return -EPROTO;
	return check_area(a->val, a->len, 1, t);
}

void sfp_iter_init(struct sfp_iter *it, const uint8_t *area, uint32_t len)
{
	it->p = area;
	it->left = len;
}

void sfp_iter_nested(struct sfp_iter *it, const struct sfp_attr *a)
{
	sfp_iter_init(it, a->val, a->len);
}

bool sfp_iter_next(struct sfp_iter *it, struct sfp_attr *a)
{
	uint16_t alen;

	if (it->left < SFP_ATTR_HDR)
		return false;
	alen = get16(it->p);
	if (alen < SFP_ATTR_HDR || alen > it->left)
		return false; /* not from sfp_parse(): stop, do not trust */
	a->val = it->p + SFP_ATTR_HDR;
	a->len = (uint16_t)(alen - SFP_ATTR_HDR);
	a->type = get16(it->p + 2);
	if (align4(alen) >= it->left) {
		it->left = 0;
	} else {
		it->p += align4(alen);
		it->left -= align4(alen);
	}
	return true;
}

static int get_fixed(const struct sfp_table *t, int type, void *v, size_t n)
{
	if (type <= 0 || type >= (int)SFP_MAX_ATTR || !t->present[type])
		return -ENOENT;
	if (t->a[type].len != n)
		return -EPROTO;
	memcpy(v, t->a[type].val, n);
	return 0;
}

int sfp_get_u32(const struct sfp_table *t, int type, uint32_t *v)
{
	return get_fixed(t, type, v, sizeof(*v));
}

int sfp_get_s32(const struct sfp_table *t, int type, int32_t *v)
{
	return get_fixed(t, type, v, sizeof(*v));
}

int sfp_get_u64(const struct sfp_table *t, int type, uint64_t *v)
{
	return get_fixed(t, type, v, sizeof(*v));
}

int sfp_get_s64(const struct sfp_table *t, int type, int64_t *v)
{
	return get_fixed(t, type, v, sizeof(*v));
}

int sfp_attr_str(const struct sfp_attr *a, const char **s)
{
	/* Exactly one string: NUL-terminated, no NUL inside. */
	if (!a->len || a->val[a->len - 1] != '\0' ||
	    memchr(a->val, '\0', a->len) != a->val + a->len - 1)
		return -EPROTO;
	*s = (const char *)a->val;
	return 0;
}

int sfp_get_str(const struct sfp_table *t, int type, const char **s)
{
	if (type <= 0 || type >= (int)SFP_MAX_ATTR || !t->present[type])
		return -ENOENT;
	return sfp_attr_str(&t->a[type], s);
}

/* ---- encoder ---------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

void sfp_begin(struct sfp_buf *b, void *buf, uint32_t cap, uint16_t type,
	       uint32_t seq, int32_t status)
{
	memset(b, 0, sizeof(*b));
	b->p = buf;
	b->cap = cap > SFP_MAX_MSG ? SFP_MAX_MSG : cap;
	if (b->cap < SFP_HDR_SIZE) {
		b->err = -EMSGSIZE;
		return;
	}
	memset(b->p, 0, SFP_HDR_SIZE);
	put16(b->p + 4, type);
	b->p[6] = SFP_VERSION;
	put32(b->p + 8, seq);
	put32(b->p + 12, (uint32_t)status);
	b->len = SFP_HDR_SIZE;
}

void sfp_put(struct sfp_buf *b, uint16_t type, const void *v, uint16_t len)
{
	uint32_t need = align4(SFP_ATTR_HDR + (uint32_t)len);

	if (b->err)
		return;
	if ((uint32_t)len + SFP_ATTR_HDR > UINT16_MAX ||
	    need > b->cap - b->len) {
		b->err = -EMSGSIZE;
		return;
	}
	put16(b->p + b->len, (uint16_t)(SFP_ATTR_HDR + len));
	put16(b->p + b->len + 2, type);
	if (len)
		memcpy(b->p + b->len + SFP_ATTR_HDR, v, len);
	memset(b->p + b->len + SFP_ATTR_HDR + len, 0,
	       need - SFP_ATTR_HDR - len);
	b->len += need;
}

void sfp_put_u32(struct sfp_buf *b, uint16_t type, uint32_t v)
{
	sfp_put(b, type, &v, sizeof(v));
}

void sfp_put_s32(struct sfp_buf *b, uint16_t type, int32_t v)
{
	sfp_put(b, type, &v, sizeof(v));
}

void sfp_put_u64(struct sfp_buf *b, uint16_t type, uint64_t v)
{
	sfp_put(b, type, &v, sizeof(v));
}

void sfp_put_s64(struct sfp_buf *b, uint16_t type, int64_t v)
{
	sfp_put(b, type, &v, sizeof(v));
}

void sfp_put_str(struct sfp_buf *b, uint16_t type, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > UINT16_MAX - SFP_ATTR_HDR) {
		b->err = -EMSGSIZE;
		return;
	}
	sfp_put(b, type, s, (uint16_t)n);
}

void sfp_nest_begin(struct sfp_buf *b, uint16_t type)
{
	if (b->err)
		return;
	if (b->depth >= SFP_MAX_DEPTH) {
		b->err = -EMSGSIZE;
		return;
	}
	b->nest[b->depth++] = b->len;
	sfp_put(b, type, NULL, 0);
}

void sfp_nest_end(struct sfp_buf *b)
{
	uint32_t start, len;

	if (b->err)
		return;
	if (!b->depth) {
		b->err = -EINVAL; /* an end without a begin */
		return;
	}
	start = b->nest[--b->depth];
	len = b->len - start;
	if (len > UINT16_MAX) {
		b->err = -EMSGSIZE;
		return;
	}
	put16(b->p + start, (uint16_t)len);
}

uint32_t sfp_room(const struct sfp_buf *b)
{
	return b->err ? 0 : b->cap - b->len;
}

void sfp_set_flags(struct sfp_buf *b, uint8_t flags)
{
	if (b->cap >= SFP_HDR_SIZE)
		b->p[7] = flags;
}

int sfp_end(struct sfp_buf *b)
{
	if (!b->err && b->depth)
		b->err = -EINVAL;
	if (b->err)
		return b->err;
	put32(b->p, b->len);
	return (int)b->len;
}
