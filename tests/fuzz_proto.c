// SPDX-License-Identifier: MIT
/*
 * fuzz_proto.c - libFuzzer target for the control protocol decoder
 * (libsfshm/proto.c): what sfshmd and libsfshm read from the socket.
 *
 * Each input is one message, parsed twice: as it is, and "sealed" - its
 * length field set to the input's size and its version to SFP_VERSION,
 * so that the fuzzer gets past the header checks to the attributes.  A
 * message that parses is then
 *
 *   walked:  every getter on every attribute type (and a few outside the
 *            table), the iterator over every area, sfp_parse_nested() on
 *            every nested attribute, recursively; every value must lie
 *            inside the input, and a string a getter accepts must be one
 *            NUL-terminated string filling its attribute;
 *   re-encoded: its header and attributes, in order, nested ones through
 *            sfp_nest_begin()/sfp_nest_end(), into a new message that must
 *            parse to the same tree; encoding that one again must give the
 *            same bytes (the encoder's output is canonical).  The encoder
 *            may refuse with -EMSGSIZE only where the canonical form (the
 *            padding the input may omit restored) exceeds SFP_MAX_MSG.
 *
 * Known bug, reported: sfp_nest_begin() refuses the SFP_MAX_DEPTH-th
 * nesting level that sfp_parse() accepts, so -EMSGSIZE is tolerated for a
 * tree that deep (and checked as soon as proto.c encodes it).
 *
 * Seeds in tests/corpus/fuzz_proto/ are messages the encoder wrote; they
 * are made by this file built as a program:
 *   cc -DFUZZ_PROTO_GEN -D_GNU_SOURCE -Ilibsfshm tests/fuzz_proto.c \
 *      libsfshm/proto.c -o gen
 *   ./gen tests/corpus/fuzz_proto
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, long a, long b) __attribute__((noreturn));

static void die(const char *what, long a, long b)
{
	fprintf(stderr, "fuzz_proto: %s (%ld, %ld)\n", what, a, b);
	abort();
}

/* The input, for bounds checks of what the parser points at. */
static const uint8_t *in_lo, *in_hi;

static void check_view(const uint8_t *p, size_t len)
{
	if (p < in_lo || p > in_hi || len > (size_t)(in_hi - p))
		die("a view outside the message", (long)(p - in_lo), (long)len);
}

static bool is_nested(uint16_t type)
{
	/* The protocol's nested types, written out again as an oracle. */
	return type == SFA_TOPIC_INFO || type == SFA_PART_INFO ||
	       type == SFA_TP || type == SFA_GROUP_INFO || type == SFA_MEMBER;
}

static uint32_t align4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

/* ---- walking -------------------------------------------------------- */

static volatile uint64_t sink; /* keeps the getters' results */

static void walk_table(const struct sfp_table *t)
{
	static const int odd_types[] = { -1, (int)SFP_MAX_ATTR, 1000 };
	const char *s;
	uint64_t u64;
	uint32_t u32;
	int64_t s64;
	int32_t s32;

	for (int type = 0; type < (int)SFP_MAX_ATTR; type++) {
		if (!sfp_get_u32(t, type, &u32))
			sink += u32;
		if (!sfp_get_s32(t, type, &s32))
			sink += (uint64_t)s32;
		if (!sfp_get_u64(t, type, &u64))
			sink += u64;
		if (!sfp_get_s64(t, type, &s64))
			sink += (uint64_t)s64;
		if (!t->present[type])
			continue;
		check_view(t->a[type].val, t->a[type].len);
		if (!sfp_get_str(t, type, &s) &&
		    strlen(s) + 1 != t->a[type].len)
			die("a string that does not fill its attribute", type,
			    t->a[type].len);
	}
	for (size_t i = 0; i < sizeof(odd_types) / sizeof(odd_types[0]); i++) {
		if (sfp_get_u32(t, odd_types[i], &u32) != -ENOENT ||
		    sfp_get_str(t, odd_types[i], &s) != -ENOENT)
			die("a type outside the table found", odd_types[i], 0);
	}
}

/* Every attribute of an area, and the nested ones' areas; Return: depth. */
static unsigned walk_area(const uint8_t *area, uint32_t len)
{
	unsigned depth = 0, d;
	struct sfp_table t;
	struct sfp_attr a;
	struct sfp_iter it;
	const char *s;

	sfp_iter_init(&it, area, len);
	while (sfp_iter_next(&it, &a)) {
		check_view(a.val, a.len);
		if (a.val < area || a.val + a.len > area + len)
			die("an attribute outside its area", a.type, a.len);
		if (!sfp_attr_str(&a, &s))
			sink += strlen(s);
		if (sfp_parse_nested(&a, &t) !=
		    (is_nested(a.type) ? 0 : -EPROTO))
			die("sfp_parse_nested() disagrees", a.type, a.len);
		if (!is_nested(a.type))
			continue;
		walk_table(&t);
		d = 1 + walk_area(a.val, a.len);
		depth = d > depth ? d : depth;
	}
	return depth;
}

/* ---- the round trip ------------------------------------------------- */

/* The size of an area once every attribute has its padding. */
static uint32_t canonical_size(const uint8_t *area, uint32_t len, bool *too_big)
{
	struct sfp_attr a;
	struct sfp_iter it;
	uint32_t n = 0, alen;

	sfp_iter_init(&it, area, len);
	while (sfp_iter_next(&it, &a)) {
		alen = SFP_ATTR_HDR +
		       (is_nested(a.type) ?
				canonical_size(a.val, a.len, too_big) :
				a.len);
		*too_big |= alen > UINT16_MAX;
		n += align4(alen);
	}
	return n;
}

static void encode_area(struct sfp_buf *b, const uint8_t *area, uint32_t len)
{
	struct sfp_attr a;
	struct sfp_iter it;

	sfp_iter_init(&it, area, len);
	while (sfp_iter_next(&it, &a)) {
		if (is_nested(a.type)) {
			sfp_nest_begin(b, a.type);
			encode_area(b, a.val, a.len);
			sfp_nest_end(b);
		} else {
			sfp_put(b, a.type, a.val, a.len);
		}
	}
}

static int encode_msg(const struct sfp_msg *m, uint8_t *out, uint32_t cap)
{
	struct sfp_buf b;

	sfp_begin(&b, out, cap, m->type, m->seq, m->status);
	sfp_set_flags(&b, m->flags);
	encode_area(&b, m->attrs, m->attrs_len);
	return sfp_end(&b);
}

/* Two areas hold the same attributes, nested ones compared as trees. */
static void same_area(const uint8_t *x, uint32_t xlen, const uint8_t *y,
		      uint32_t ylen)
{
	struct sfp_attr a, c;
	struct sfp_iter ix, iy;
	bool more;

	sfp_iter_init(&ix, x, xlen);
	sfp_iter_init(&iy, y, ylen);
	while ((more = sfp_iter_next(&ix, &a))) {
		if (!sfp_iter_next(&iy, &c))
			die("the copy has fewer attributes", a.type, 0);
		if (a.type != c.type)
			die("an attribute changed type", a.type, c.type);
		if (is_nested(a.type))
			same_area(a.val, a.len, c.val, c.len);
		else if (a.len != c.len || memcmp(a.val, c.val, a.len))
			die("an attribute changed value", a.type, a.len);
	}
	if (sfp_iter_next(&iy, &c))
		die("the copy has more attributes", c.type, 0);
}

static void same_msg(const struct sfp_msg *m, const struct sfp_msg *c)
{
	if (m->type != c->type || m->seq != c->seq || m->status != c->status ||
	    m->flags != c->flags || c->version != SFP_VERSION)
		die("the header changed", m->type, c->type);
	same_area(m->attrs, m->attrs_len, c->attrs, c->attrs_len);
	for (int type = 0; type < (int)SFP_MAX_ATTR; type++) {
		if (m->t.present[type] != c->t.present[type])
			die("the index changed", type, m->t.present[type]);
		if (m->t.present[type] && !is_nested((uint16_t)type) &&
		    (m->t.a[type].len != c->t.a[type].len ||
		     memcmp(m->t.a[type].val, c->t.a[type].val,
			    m->t.a[type].len)))
			die("the first attribute of a type changed", type, 0);
	}
}

static uint8_t enc1[SFP_MAX_MSG], enc2[SFP_MAX_MSG];

static void round_trip(const struct sfp_msg *m, unsigned depth)
{
	bool too_big = false;
	uint32_t want;
	struct sfp_msg c;
	int n, n2;

	want = SFP_HDR_SIZE + canonical_size(m->attrs, m->attrs_len, &too_big);
	too_big |= want > SFP_MAX_MSG;
	n = encode_msg(m, enc1, sizeof(enc1));
	if (n == -EMSGSIZE && (too_big || depth >= SFP_MAX_DEPTH))
		return; /* see the known bug above for the depth */
	if (too_big || n != (int)want)
		die("the encoder's size", n, want);
	if (sfp_parse(enc1, (size_t)n, &c))
		die("the encoder's message does not parse", n, 0);
	same_msg(m, &c);
	n2 = encode_msg(&c, enc2, sizeof(enc2));
	if (n2 != n || memcmp(enc1, enc2, (size_t)n))
		die("encoding is not canonical", n, n2);
}

static void one_message(const uint8_t *p, size_t size)
{
	struct sfp_msg m;
	unsigned depth;
	int ret;

	in_lo = p;
	in_hi = p + size;
	ret = sfp_parse(p, size, &m);
	if (ret != 0 && ret != -EPROTO && ret != -EPROTONOSUPPORT)
		die("sfp_parse() returned", ret, 0);
	if (ret)
		return;
	if (m.len != size || m.attrs != p + SFP_HDR_SIZE ||
	    m.attrs_len != size - SFP_HDR_SIZE)
		die("the header's view", (long)m.len, (long)size);
	walk_table(&m.t);
	depth = walk_area(m.attrs, m.attrs_len);
	if (depth > SFP_MAX_DEPTH)
		die("parsed nesting too deep", depth, 0);
	round_trip(&m, depth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	uint32_t len = (uint32_t)size;

	one_message(data, size);
	if (size < SFP_HDR_SIZE || size > SFP_MAX_MSG)
		return 0;
	/* Sealed: a header that agrees, so the attributes are reached. */
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	memcpy(copy, &len, sizeof(len));
	copy[6] = SFP_VERSION;
	one_message(copy, size);
	free(copy);
	return 0;
}

#ifdef FUZZ_PROTO_GEN
/* ---- the seed generator ---------------------------------------------- */

static uint8_t seed[SFP_MAX_MSG];

static int seed_hello(struct sfp_buf *b)
{
	sfp_begin(b, seed, sizeof(seed), SFP_HELLO, 1, 0);
	sfp_put_u32(b, SFA_VERSION, SFP_VERSION);
	sfp_put_str(b, SFA_CLIENT_ID, "sfcat-4242");
	return sfp_end(b);
}

static int seed_broker_info(struct sfp_buf *b)
{
	sfp_begin(b, seed, sizeof(seed), SFP_BROKER_INFO, 1, 0);
	sfp_put_s32(b, SFA_BROKER_ID, 0);
	sfp_put_str(b, SFA_DATA_DIR, "/var/lib/sfshm");
	sfp_put_str(b, SFA_RUN_DIR, "/dev/shm/sfshm-default");
	sfp_put_u32(b, SFA_PID, 4242);
	sfp_put_u64(b, SFA_UPTIME_MS, 123456789);
	sfp_put_u32(b, SFA_TOPICS, 3);
	sfp_put_u32(b, SFA_CLIENTS, 7);
	sfp_put_str(b, SFA_SOFTWARE, "sfshmd 0.1.0");
	sfp_put_s64(b, SFA_UNBLOCK_MS, 1000);
	return sfp_end(b);
}

static int seed_topic_create(struct sfp_buf *b)
{
	sfp_begin(b, seed, sizeof(seed), SFP_TOPIC_CREATE, 2, 0);
	sfp_put_str(b, SFA_TOPIC, "orders");
	sfp_put_u32(b, SFA_PARTITIONS, 4);
	sfp_put_u64(b, SFA_RING_BYTES, 4u << 20);
	sfp_put_s64(b, SFA_SEGMENT_BYTES, 1 << 30);
	sfp_put_s64(b, SFA_SEGMENT_MS, 604800000);
	sfp_put_s64(b, SFA_RETENTION_BYTES, -1);
	sfp_put_s64(b, SFA_RETENTION_MS, 604800000);
	sfp_put_s64(b, SFA_FLUSH_MESSAGES, -1);
	sfp_put_s64(b, SFA_FLUSH_MS, 1000);
	sfp_put_u32(b, SFA_MODE, 0660);
	return sfp_end(b);
}

static int seed_error_reply(struct sfp_buf *b)
{
	sfp_begin(b, seed, sizeof(seed), SFP_TOPIC_CREATE, 2, -EEXIST);
	sfp_put_str(b, SFA_ERRMSG, "topic \"orders\" exists");
	return sfp_end(b);
}

/* A topic list in two parts: SFP_F_MORE on the first. */
static int seed_topic_list(struct sfp_buf *b, bool more)
{
	sfp_begin(b, seed, sizeof(seed), SFP_TOPIC_LIST, 3, 0);
	for (int i = 0; i < 3; i++) {
		sfp_nest_begin(b, SFA_TOPIC_INFO);
		sfp_put_str(b, SFA_TOPIC, i ? "payments" : "orders");
		sfp_put_u32(b, SFA_PARTITIONS, (uint32_t)i + 1);
		sfp_nest_end(b);
	}
	if (more)
		sfp_set_flags(b, SFP_F_MORE);
	return sfp_end(b);
}

static void put_part(struct sfp_buf *b, uint32_t p)
{
	sfp_nest_begin(b, SFA_PART_INFO);
	sfp_put_u32(b, SFA_PARTITION, p);
	sfp_put_str(b, SFA_RING_PATH, "/dev/shm/sfshm-default/orders-0.ring");
	sfp_put_str(b, SFA_CTL_PATH, "/dev/shm/sfshm-default/orders-0.ctl");
	sfp_put_str(b, SFA_LOG_DIR, "/var/lib/sfshm/orders-0");
	sfp_put_s64(b, SFA_LOG_START, 0);
	sfp_put_s64(b, SFA_LOG_END, 1000);
	sfp_put_s64(b, SFA_WRITTEN_OFFSET, 1000);
	sfp_put_s64(b, SFA_DURABLE_OFFSET, 990);
	sfp_put_u64(b, SFA_RING_TAIL, 65536);
	sfp_put_u64(b, SFA_RING_CLEAN, 4096);
	sfp_put_u64(b, SFA_RING_WRITTEN, 65536);
	sfp_put_u64(b, SFA_RING_DURABLE, 60000);
	sfp_put_u32(b, SFA_PRODUCERS, 2);
	sfp_put_u32(b, SFA_CONSUMERS, 1);
	sfp_put_u64(b, SFA_LOG_BYTES, 1 << 20);
	sfp_put_u32(b, SFA_SEGMENTS, 1);
	sfp_nest_end(b);
}

static int seed_describe(struct sfp_buf *b)
{
	sfp_begin(b, seed, sizeof(seed), SFP_TOPIC_DESCRIBE, 4, 0);
	sfp_put_str(b, SFA_TOPIC, "orders");
	sfp_put_u32(b, SFA_PARTITIONS, 2);
	sfp_put_u64(b, SFA_RING_BYTES, 4u << 20);
	sfp_put_u32(b, SFA_MODE, 0660);
	put_part(b, 0);
	put_part(b, 1);
	return sfp_end(b);
}

static int seed_attach(struct sfp_buf *b)
{
	sfp_begin(b, seed, sizeof(seed), SFP_ATTACH, 5, 0);
	sfp_put_str(b, SFA_TOPIC, "orders");
	sfp_put_u32(b, SFA_ROLE, 1);
	return sfp_end(b);
}

static int seed_list_offsets(struct sfp_buf *b)
{
	sfp_begin(b, seed, sizeof(seed), SFP_LIST_OFFSETS, 6, 0);
	sfp_put_str(b, SFA_TOPIC, "orders");
	sfp_put_u32(b, SFA_PARTITION, 0);
	sfp_put_s64(b, SFA_TIMESTAMP, -2);
	return sfp_end(b);
}

/* As deep as the encoder nests, with an unknown type at the bottom. */
static int seed_deep(struct sfp_buf *b)
{
	unsigned levels = 0;

	sfp_begin(b, seed, sizeof(seed), SFP_TOPIC_LIST, 7, 0);
	for (; levels < SFP_MAX_DEPTH; levels++) {
		sfp_nest_begin(b, levels % 2 ? SFA_PART_INFO : SFA_TOPIC_INFO);
		if (b->err) {
			b->err = 0; /* the known bug: one level less */
			break;
		}
	}
	sfp_put_u32(b, SFA_TYPE_MAX, 1);
	while (levels--)
		sfp_nest_end(b);
	return sfp_end(b);
}

/* SFP_MAX_DEPTH levels written by hand: what the parser accepts. */
static int seed_deepest(void)
{
	uint32_t n = SFP_HDR_SIZE, v = 1;
	uint16_t alen, type;

	seed_hello(&(struct sfp_buf){ 0 }); /* a header to start from */
	seed[4] = SFP_TOPIC_LIST;
	for (unsigned i = 0; i < SFP_MAX_DEPTH; i++) {
		alen = (uint16_t)(SFP_ATTR_HDR * (SFP_MAX_DEPTH - i) + 8);
		type = i % 2 ? SFA_PART_INFO : SFA_TOPIC_INFO;
		memcpy(seed + n, &alen, 2);
		memcpy(seed + n + 2, &type, 2);
		n += SFP_ATTR_HDR;
	}
	alen = 8;
	type = SFA_PARTITION;
	memcpy(seed + n, &alen, 2);
	memcpy(seed + n + 2, &type, 2);
	memcpy(seed + n + 4, &v, 4);
	n += 8;
	memcpy(seed, &n, sizeof(n));
	return (int)n;
}

static void write_seed(const char *dir, const char *name, int n)
{
	char path[512];
	FILE *f;

	if (n < 0)
		die("encode", n, 0);
	LLVMFuzzerTestOneInput(seed, (size_t)n); /* the seed passes */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(seed, 1, (size_t)n, f) != (size_t)n || fclose(f))
		die("write seed", errno, 0);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	struct sfp_buf b;
	int n;

	write_seed(dir, "hello", seed_hello(&b));
	write_seed(dir, "broker-info", seed_broker_info(&b));
	write_seed(dir, "topic-create", seed_topic_create(&b));
	write_seed(dir, "error-reply", seed_error_reply(&b));
	write_seed(dir, "topic-list-more", seed_topic_list(&b, true));
	write_seed(dir, "topic-list-last", seed_topic_list(&b, false));
	write_seed(dir, "describe", seed_describe(&b));
	write_seed(dir, "attach", seed_attach(&b));
	write_seed(dir, "list-offsets", seed_list_offsets(&b));
	write_seed(dir, "deep", seed_deep(&b));
	write_seed(dir, "deepest", seed_deepest());
	/* The last attribute without its padding, as a peer may send. */
	n = seed_hello(&b) - 1;
	memcpy(seed, &n, sizeof(uint32_t));
	write_seed(dir, "unpadded", n);
	return 0;
}
#endif
