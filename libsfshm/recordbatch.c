// SPDX-License-Identifier: MIT
/*
 * recordbatch.c - Kafka RecordBatch v2 encoding and strict decoding.
 *
 * The layout is documented in recordbatch.h.  Decoding treats the bytes as
 * hostile: every length is compared with what is left before it is used,
 * sizes are kept in size_t or int64_t so that no sum can wrap, and nothing
 * is trusted until the CRC matched.  The builder writes records in place
 * after a reserved header and fills the header and CRC at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "recordbatch.h"
#include "sf_be.h"

/* The smallest record: 7 one-byte fields (length .. header count). */
#define MIN_RECORD_SIZE 7
#define DEFAULT_ALLOC 4096

/* ---- varints -------------------------------------------------------- */

static inline uint32_t zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (0u - ((uint32_t)v >> 31));
}

static inline uint64_t zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (0ull - ((uint64_t)v >> 63));
}

static inline int32_t unzigzag32(uint32_t u)
{
	return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static inline int64_t unzigzag64(uint64_t u)
{
	return (int64_t)((u >> 1) ^ (0ull - (u & 1)));
}

static size_t uvar_size(uint64_t u)
{
	size_t n = 1;

	while (u >= 0x80) {
		u >>= 7;
		n++;
	}
	return n;
}

static size_t uvar_put(uint8_t *p, uint64_t u)
{
	size_t n = 0;

	while (u >= 0x80) {
		p[n++] = (uint8_t)(u | 0x80);
		u >>= 7;
	}
	p[n++] = (uint8_t)u;
	return n;
}

/*
 * Decode an unsigned base-128 integer of at most @max bytes whose last
 * byte may carry only @top_bits bits (the rest of the type's width).
 */
static int uvar_get(const uint8_t *p, size_t len, unsigned max,
		    unsigned top_bits, uint64_t *out)
{
	uint64_t u = 0;

	for (unsigned i = 0; i < max && i < len; i++) {
		uint8_t b = p[i];

		u |= (uint64_t)(b & 0x7f) << (7 * i);
		if (b & 0x80)
			continue;
		if (i > 0 && b == 0)
			return -EBADMSG; /* overlong: a zero top group */
		if (i == max - 1 && (b >> top_bits) != 0)
			return -EBADMSG; /* wider than the type */
		*out = u;
		return (int)i + 1;
	}
	return -EBADMSG; /* runs past the buffer or too long */
}

size_t sf_rb_varint_size(int32_t v)
{
	return uvar_size(zigzag32(v));
}

size_t sf_rb_varlong_size(int64_t v)
{
	return uvar_size(zigzag64(v));
}

size_t sf_rb_put_varint(uint8_t *p, int32_t v)
{
	return uvar_put(p, zigzag32(v));
}

size_t sf_rb_put_varlong(uint8_t *p, int64_t v)
{
	return uvar_put(p, zigzag64(v));
}

int sf_rb_get_varint(const uint8_t *p, size_t len, int32_t *v)
{
	uint64_t u;
	int n = uvar_get(p, len, SF_RB_VARINT_MAX, 32 - 28, &u);

	if (n > 0)
		*v = unzigzag32((uint32_t)u);
	return n;
}

int sf_rb_get_varlong(const uint8_t *p, size_t len, int64_t *v)
{
	uint64_t u;
	int n = uvar_get(p, len, SF_RB_VARLONG_MAX, 64 - 63, &u);

	if (n > 0)
		*v = unzigzag64(u);
	return n;
}

/* ---- batch header ----------------------------------------------------- */

static void header_decode(const uint8_t *p, struct sf_rb_hdr *h)
{
	h->base_offset = (int64_t)sf_get_be64(p + SF_RB_OFF_BASE_OFFSET);
	h->batch_length = (int32_t)sf_get_be32(p + SF_RB_OFF_LENGTH);
	h->leader_epoch = (int32_t)sf_get_be32(p + SF_RB_OFF_LEADER_EPOCH);
	h->magic = (int8_t)p[SF_RB_OFF_MAGIC];
	h->crc = sf_get_be32(p + SF_RB_OFF_CRC);
	h->attributes = (int16_t)sf_get_be16(p + SF_RB_OFF_ATTRIBUTES);
	h->last_offset_delta =
		(int32_t)sf_get_be32(p + SF_RB_OFF_LAST_OFFSET_DELTA);
	h->base_timestamp = (int64_t)sf_get_be64(p + SF_RB_OFF_BASE_TIMESTAMP);
	h->max_timestamp = (int64_t)sf_get_be64(p + SF_RB_OFF_MAX_TIMESTAMP);
	h->producer_id = (int64_t)sf_get_be64(p + SF_RB_OFF_PRODUCER_ID);
	h->producer_epoch = (int16_t)sf_get_be16(p + SF_RB_OFF_PRODUCER_EPOCH);
	h->base_sequence = (int32_t)sf_get_be32(p + SF_RB_OFF_BASE_SEQUENCE);
	h->record_count = (int32_t)sf_get_be32(p + SF_RB_OFF_RECORD_COUNT);
}

static bool header_sane(const struct sf_rb_hdr *h)
{
	int64_t last;

	if (h->magic != SF_RB_MAGIC)
		return false;
	if (h->batch_length < SF_RB_HEADER_SIZE - SF_RB_LOG_OVERHEAD)
		return false;
	if (h->base_offset < 0 || h->last_offset_delta < 0 ||
	    h->record_count < 0)
		return false;
	if (__builtin_add_overflow(h->base_offset, h->last_offset_delta, &last))
		return false;
	/* Offset deltas are distinct values in [0, lastOffsetDelta]. */
	return h->record_count <= (int64_t)h->last_offset_delta + 1;
}

int sf_rb_parse_header(const void *buf, size_t len, struct sf_rb_hdr *h)
{
	struct sf_rb_hdr tmp;

	if (len < SF_RB_HEADER_SIZE)
		return -EBADMSG;
	header_decode(buf, &tmp);
	if (!header_sane(&tmp))
		return -EBADMSG;
	*h = tmp;
	return 0;
}

uint32_t sf_rb_crc(const void *batch, size_t size)
{
	const uint8_t *p = batch;

	return sf_crc32c(0, p + SF_RB_CRC_START, size - SF_RB_CRC_START);
}

int sf_rb_check(const void *buf, size_t len, struct sf_rb_hdr *h)
{
	struct sf_rb_hdr tmp;
	int ret = sf_rb_parse_header(buf, len, &tmp);

	if (ret)
		return ret;
	if (sf_rb_size(&tmp) > len)
		return -EBADMSG; /* truncated */
	if (sf_rb_crc(buf, sf_rb_size(&tmp)) != tmp.crc)
		return -EBADMSG;
	*h = tmp;
	return 0;
}

void sf_rb_set_base_offset(void *batch, int64_t base_offset)
{
	sf_put_be64((uint8_t *)batch + SF_RB_OFF_BASE_OFFSET,
		    (uint64_t)base_offset);
}

void sf_rb_set_leader_epoch(void *batch, int32_t epoch)
{
	sf_put_be32((uint8_t *)batch + SF_RB_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

/* ---- decoding records ------------------------------------------------- */

/* A cursor over [p, end) that fails once and stays failed. */
struct cur {
	const uint8_t *p;
	const uint8_t *end;
	bool bad;
};

static size_t cur_left(const struct cur *c)
{
	return (size_t)(c->end - c->p);
}

static int32_t cur_varint(struct cur *c)
{
	int32_t v = 0;
	int n;

	if (c->bad)
		return 0;
	n = sf_rb_get_varint(c->p, cur_left(c), &v);
	if (n < 0)
		c->bad = true;
	else
		c->p += n;
	return v;
}

static int64_t cur_varlong(struct cur *c)
{
	int64_t v = 0;
	int n;

	if (c->bad)
		return 0;
	n = sf_rb_get_varlong(c->p, cur_left(c), &v);
	if (n < 0)
		c->bad = true;
	else
		c->p += n;
	return v;
}

static int8_t cur_int8(struct cur *c)
{
	if (c->bad || cur_left(c) < 1) {
		c->bad = true;
		return 0;
	}
	return (int8_t)*c->p++;
}

/* A length-prefixed byte string; @nullable allows length -1. */
static struct sf_rb_bytes cur_bytes(struct cur *c, bool nullable)
{
	struct sf_rb_bytes b = { .ptr = NULL, .len = cur_varint(c) };

	if (c->bad)
		return b;
	if (b.len < (nullable ? SF_RB_NULL : 0) ||
	    (b.len > 0 && (size_t)b.len > cur_left(c))) {
		c->bad = true;
		return b;
	}
	if (b.len >= 0) {
		b.ptr = c->p;
		c->p += b.len;
	}
	return b;
}

static void cur_header(struct cur *c, struct sf_rb_header *h)
{
	h->key = cur_bytes(c, false);
	h->value = cur_bytes(c, true);
}

/* Walk @count headers to check them and find where they end. */
static void cur_skip_headers(struct cur *c, int32_t count)
{
	struct sf_rb_header h;

	for (int32_t i = 0; i < count && !c->bad; i++)
		cur_header(c, &h);
}

int sf_rb_iter_init(struct sf_rb_iter *it, const void *buf, size_t len)
{
	int ret = sf_rb_check(buf, len, &it->hdr);

	if (ret)
		return ret;
	it->p = (const uint8_t *)buf + SF_RB_HEADER_SIZE;
	it->end = (const uint8_t *)buf + sf_rb_size(&it->hdr);
	it->left = it->hdr.record_count;
	it->prev_delta = -1;
	it->err = 0;
	if (sf_rb_compression(&it->hdr) != SF_RB_COMPRESSION_NONE)
		it->err = -EOPNOTSUPP;
	else if ((size_t)(it->end - it->p) / MIN_RECORD_SIZE < (size_t)it->left)
		it->err = -EBADMSG; /* more records than bytes for them */
	return 0;
}

static int64_t record_timestamp(const struct sf_rb_iter *it, int64_t delta,
				bool *bad)
{
	int64_t ts;

	if (it->hdr.attributes & SF_RB_ATTR_LOG_APPEND_TIME)
		return it->hdr.max_timestamp;
	if (__builtin_add_overflow(it->hdr.base_timestamp, delta, &ts))
		*bad = true;
	return ts;
}

/* Decode the fields of one record body [c->p, c->end). */
static void record_decode(struct sf_rb_iter *it, struct cur *c,
			  struct sf_rb_record *rec)
{
	int64_t ts_delta;
	int32_t off_delta;

	rec->attributes = cur_int8(c);
	ts_delta = cur_varlong(c);
	off_delta = cur_varint(c);
	rec->key = cur_bytes(c, true);
	rec->value = cur_bytes(c, true);
	rec->header_count = cur_varint(c);
	if (c->bad || rec->header_count < 0) {
		c->bad = true;
		return;
	}
	rec->headers = c->p;
	cur_skip_headers(c, rec->header_count);
	rec->headers_len = (size_t)(c->p - rec->headers);
	if (off_delta <= it->prev_delta ||
	    off_delta > it->hdr.last_offset_delta)
		c->bad = true;
	rec->offset = it->hdr.base_offset + off_delta; /* checked in header */
	rec->timestamp = record_timestamp(it, ts_delta, &c->bad);
	it->prev_delta = off_delta;
}

static int iter_end(struct sf_rb_iter *it)
{
	if (it->p != it->end)
		it->err = -EBADMSG; /* bytes after the last record */
	return it->err;
}

int sf_rb_iter_next(struct sf_rb_iter *it, struct sf_rb_record *rec)
{
	struct cur c = { .p = it->p, .end = it->end };
	int32_t len;

	if (it->err)
		return it->err;
	if (it->left == 0)
		return iter_end(it);
	len = cur_varint(&c);
	if (c.bad || len < 0 || (size_t)len > cur_left(&c))
		return it->err = -EBADMSG;
	c.end = c.p + len;
	record_decode(it, &c, rec);
	if (c.bad || c.p != c.end) /* the fields must fill the record */
		return it->err = -EBADMSG;
	it->p = c.end;
	it->left--;
	return 1;
}

void sf_rb_headers_begin(const struct sf_rb_record *rec,
			 struct sf_rb_header_iter *hi)
{
	hi->p = rec->headers;
	hi->end = rec->headers + rec->headers_len;
	hi->left = rec->header_count;
}

int sf_rb_headers_next(struct sf_rb_header_iter *hi, struct sf_rb_header *h)
{
	struct cur c = { .p = hi->p, .end = hi->end };

	if (hi->left <= 0)
		return 0;
	cur_header(&c, h);
	if (c.bad) {
		hi->left = 0;
		return -EBADMSG;
	}
	hi->p = c.p;
	hi->left--;
	return 1;
}

int sf_rb_validate(const void *buf, size_t len, struct sf_rb_hdr *h)
{
	struct sf_rb_iter it;
	struct sf_rb_record rec;
	int ret = sf_rb_iter_init(&it, buf, len);

	if (ret)
		return ret;
	while ((ret = sf_rb_iter_next(&it, &rec)) == 1)
		;
	if (h && (ret == 0 || ret == -EOPNOTSUPP))
		*h = it.hdr;
	return ret;
}

/* ---- encoding --------------------------------------------------------- */

static void builder_defaults(struct sf_rb_builder *b)
{
	b->len = SF_RB_HEADER_SIZE;
	b->finished = false;
	b->attributes = 0;
	b->leader_epoch = -1;
	b->base_offset = 0;
	b->producer_id = SF_RB_NO_PRODUCER_ID;
	b->producer_epoch = -1;
	b->base_sequence = -1;
	b->base_timestamp = SF_RB_NO_TIMESTAMP;
	b->max_timestamp = SF_RB_NO_TIMESTAMP;
	b->count = 0;
}

void sf_rb_builder_init(struct sf_rb_builder *b, void *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->owned = false;
	builder_defaults(b);
}

int sf_rb_builder_init_alloc(struct sf_rb_builder *b, size_t hint)
{
	size_t cap = hint > SF_RB_HEADER_SIZE ? hint : DEFAULT_ALLOC;
	void *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	sf_rb_builder_init(b, buf, cap);
	b->owned = true;
	return 0;
}

void sf_rb_builder_release(struct sf_rb_builder *b)
{
	if (b->owned)
		free(b->buf);
	b->buf = NULL;
	b->cap = 0;
	b->owned = false;
}

void sf_rb_builder_reset(struct sf_rb_builder *b)
{
	b->len = SF_RB_HEADER_SIZE;
	b->finished = false;
	b->base_timestamp = SF_RB_NO_TIMESTAMP;
	b->max_timestamp = SF_RB_NO_TIMESTAMP;
	b->count = 0;
}

void sf_rb_builder_set_producer(struct sf_rb_builder *b, int64_t producer_id,
				int16_t producer_epoch, int32_t base_sequence)
{
	b->producer_id = producer_id;
	b->producer_epoch = producer_epoch;
	b->base_sequence = base_sequence;
}

int sf_rb_builder_set_attributes(struct sf_rb_builder *b, int16_t attributes)
{
	if (attributes & SF_RB_ATTR_COMPRESSION)
		return -EINVAL;
	b->attributes = attributes;
	return 0;
}

/* Encoded size of a nullable byte string; 0 if the length is invalid. */
static size_t bytes_size(struct sf_rb_bytes v, bool nullable)
{
	if (v.len < (nullable ? SF_RB_NULL : 0))
		return 0;
	return sf_rb_varint_size(v.len) + (v.len > 0 ? (size_t)v.len : 0);
}

/* Size of the record body (after its length), 0 if it cannot be encoded. */
static size_t record_body_size(const struct sf_rb_msg *m, int64_t ts_delta,
			       int32_t off_delta)
{
	size_t k = bytes_size(m->key, true), v = bytes_size(m->value, true);
	size_t n;

	if (!k || !v || m->header_count > INT32_MAX)
		return 0;
	n = 1 + sf_rb_varlong_size(ts_delta) + sf_rb_varint_size(off_delta) +
	    k + v + sf_rb_varint_size((int32_t)m->header_count);
	for (uint32_t i = 0; i < m->header_count && n <= INT32_MAX; i++) {
		size_t hk = bytes_size(m->headers[i].key, false);
		size_t hv = bytes_size(m->headers[i].value, true);

		if (!hk || !hv)
			return 0;
		n += hk + hv;
	}
	return n;
}

/* Make room for @need more bytes. */
static int builder_reserve(struct sf_rb_builder *b, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (need > SF_RB_MAX_SIZE - b->len)
		return -EMSGSIZE;
	if (b->len + need <= b->cap)
		return 0;
	if (!b->owned)
		return -ENOBUFS;
	cap = b->cap;
	while (cap < b->len + need)
		cap = cap > SF_RB_MAX_SIZE / 2 ? SF_RB_MAX_SIZE : cap * 2;
	p = realloc(b->buf, cap);
	if (!p)
		return -ENOMEM;
	b->buf = p;
	b->cap = cap;
	return 0;
}

static uint8_t *put_bytes(uint8_t *p, struct sf_rb_bytes v)
{
	p += sf_rb_put_varint(p, v.len);
	if (v.len > 0) {
		memcpy(p, v.ptr, (size_t)v.len);
		p += v.len;
	}
	return p;
}

static void record_encode(uint8_t *p, const struct sf_rb_msg *m, size_t body,
			  int64_t ts_delta, int32_t off_delta)
{
	p += sf_rb_put_varint(p, (int32_t)body);
	*p++ = 0; /* record attributes: unused in v2 */
	p += sf_rb_put_varlong(p, ts_delta);
	p += sf_rb_put_varint(p, off_delta);
	p = put_bytes(p, m->key);
	p = put_bytes(p, m->value);
	p += sf_rb_put_varint(p, (int32_t)m->header_count);
	for (uint32_t i = 0; i < m->header_count; i++) {
		p = put_bytes(p, m->headers[i].key);
		p = put_bytes(p, m->headers[i].value);
	}
}

int sf_rb_builder_add(struct sf_rb_builder *b, const struct sf_rb_msg *m)
{
	int64_t base_ts = b->count ? b->base_timestamp : m->timestamp;
	int64_t ts_delta;
	size_t body, total;
	int ret;

	if (b->finished || b->count == INT32_MAX)
		return -EINVAL;
	if (__builtin_sub_overflow(m->timestamp, base_ts, &ts_delta))
		return -EINVAL;
	body = record_body_size(m, ts_delta, b->count);
	if (!body)
		return -EINVAL;
	if (body > INT32_MAX)
		return -EMSGSIZE;
	total = sf_rb_varint_size((int32_t)body) + body;
	ret = builder_reserve(b, total);
	if (ret)
		return ret;
	record_encode(b->buf + b->len, m, body, ts_delta, b->count);
	b->len += total;
	b->base_timestamp = base_ts;
	if (!b->count || m->timestamp > b->max_timestamp)
		b->max_timestamp = m->timestamp;
	b->count++;
	return 0;
}

static void header_encode(const struct sf_rb_builder *b, uint8_t *p)
{
	sf_put_be64(p + SF_RB_OFF_BASE_OFFSET, (uint64_t)b->base_offset);
	sf_put_be32(p + SF_RB_OFF_LENGTH,
		    (uint32_t)(b->len - SF_RB_LOG_OVERHEAD));
	sf_put_be32(p + SF_RB_OFF_LEADER_EPOCH, (uint32_t)b->leader_epoch);
	p[SF_RB_OFF_MAGIC] = SF_RB_MAGIC;
	sf_put_be16(p + SF_RB_OFF_ATTRIBUTES, (uint16_t)b->attributes);
	sf_put_be32(p + SF_RB_OFF_LAST_OFFSET_DELTA, (uint32_t)(b->count - 1));
	sf_put_be64(p + SF_RB_OFF_BASE_TIMESTAMP, (uint64_t)b->base_timestamp);
	sf_put_be64(p + SF_RB_OFF_MAX_TIMESTAMP, (uint64_t)b->max_timestamp);
	sf_put_be64(p + SF_RB_OFF_PRODUCER_ID, (uint64_t)b->producer_id);
	sf_put_be16(p + SF_RB_OFF_PRODUCER_EPOCH, (uint16_t)b->producer_epoch);
	sf_put_be32(p + SF_RB_OFF_BASE_SEQUENCE, (uint32_t)b->base_sequence);
	sf_put_be32(p + SF_RB_OFF_RECORD_COUNT, (uint32_t)b->count);
}

int sf_rb_builder_finish(struct sf_rb_builder *b, const uint8_t **batch,
			 size_t *len)
{
	if (b->finished || b->count == 0)
		return -EINVAL;
	header_encode(b, b->buf);
	sf_put_be32(b->buf + SF_RB_OFF_CRC, sf_rb_crc(b->buf, b->len));
	b->finished = true;
	*batch = b->buf;
	*len = b->len;
	return 0;
}
