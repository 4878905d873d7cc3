// SPDX-License-Identifier: MIT
/*
 * test_client.c - the client API (sfshm.h) against a real sfshmd.
 *
 * The group setup starts build/sfshmd (or $SFSHMD) with t_daemon.h on
 * fresh data and run directories and waits for it to answer with a
 * deadline; the teardown stops it with SIGTERM and expects a clean exit.  Each test works on topics of its
 * own.  Records carry their sequence number in the value, so that what a
 * consumer reads can be checked against what was sent: every record
 * exactly once, offsets dense and in order per partition.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sfshm/sfshm.h>

#include "t_daemon.h"
#include "t_util.h"

#define POLL_MS 20000 /* a consumer gets everything within this */
#define KEYED_RECORDS 100000
#define KEYED_PARTS 4
#define SMALL_RING (64u << 10)

/* The consumer's private header encodings (consumer.c). */
#define HDR_RING 1
#define HDR_KAFKA 2

static struct t_daemon g_d;

/* ---- the daemon ---------------------------------------------------------- */

/* Connect to the test daemon (with the default options but the dir). */
static struct sfshm_client *connect_or_null(int *errp)
{
	struct sfshm_client_opts o = {
		.size = sizeof(o),
		.run_dir = g_d.run_dir,
		.client_id = "test_client",
	};
	struct sfshm_client *c = NULL;

	*errp = sfshm_connect(&o, &c);
	return c;
}

static struct sfshm_client *connect_ok(void)
{
	int err;
	struct sfshm_client *c = connect_or_null(&err);

	if (!c)
		fail_msg("connect: %s", sfshm_strerror(err));
	return c;
}

static int group_setup(void **state)
{
	(void)state;
	if (t_daemon_init(&g_d, "tc")) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return t_daemon_start(&g_d);
}

static int group_teardown(void **state)
{
	int rc = g_d.pid > 0 ? t_daemon_term(&g_d) : 0;

	(void)state;
	t_daemon_cleanup(&g_d);
	return rc;
}

/* ---- helpers ------------------------------------------------------------- */

static void create_topic(struct sfshm_client *c, const char *name,
			 uint32_t parts, uint64_t ring_bytes)
{
	struct sfshm_topic_config cfg;
	int err;

	sfshm_topic_config_init(&cfg);
	cfg.partitions = parts;
	cfg.ring_bytes = ring_bytes;
	err = sfshm_topic_create(c, name, &cfg);
	if (err)
		fail_msg("create %s: %s (%s)", name, sfshm_strerror(err),
			 sfshm_last_error(c));
}

static struct sfshm_producer *
producer_ok(struct sfshm_client *c, const char *topic, enum sfshm_acks acks)
{
	struct sfshm_producer_opts o = {
		.size = sizeof(o),
		.acks = acks,
		.timeout_ms = 30000,
	};
	struct sfshm_producer *p = NULL;
	int err = sfshm_producer_open(c, topic, &o, &p);

	if (err)
		fail_msg("producer_open %s: %s (%s)", topic,
			 sfshm_strerror(err), sfshm_last_error(c));
	return p;
}

static struct sfshm_consumer *consumer_ok(struct sfshm_client *c,
					  enum sfshm_offset_reset reset)
{
	struct sfshm_consumer_opts o = {
		.size = sizeof(o),
		.reset = reset,
		.wait = SFSHM_WAIT_HYBRID,
	};
	struct sfshm_consumer *cons = NULL;

	assert_int_equal(sfshm_consumer_open(c, &o, &cons), 0);
	return cons;
}

/* A consumer assigned @partition (-1: all) of @topic from @offset. */
static struct sfshm_consumer *consumer_at(struct sfshm_client *c,
					  enum sfshm_offset_reset reset,
					  const char *topic, int32_t partition,
					  int64_t offset)
{
	struct sfshm_consumer *cons = consumer_ok(c, reset);

	assert_int_equal(sfshm_consumer_assign(cons, topic, partition, offset),
			 0);
	return cons;
}

/* The end of a test: close @cons and @p, delete @topic, disconnect @c. */
static void done_with(struct sfshm_client *c, struct sfshm_producer *p,
		      struct sfshm_consumer *cons, const char *topic)
{
	sfshm_consumer_close(cons);
	sfshm_producer_close(p);
	if (topic)
		assert_int_equal(sfshm_topic_delete(c, topic), 0);
	sfshm_disconnect(c);
}

/* A record with a null key whose value is the 8 bytes of *@v. */
static struct sfshm_rec u64_rec(const uint64_t *v)
{
	return (struct sfshm_rec){ .key_len = -1,
				   .value = v,
				   .value_len = sizeof(*v) };
}

/* The sequence number a record's value starts with. */
static uint64_t value_seq(const struct sfshm_record *r)
{
	uint64_t v;

	assert_true(r->value_len >= (int32_t)sizeof(v));
	memcpy(&v, r->value, sizeof(v));
	return v;
}

/* Poll one record within the test deadline. */
static void poll_one(struct sfshm_consumer *cons, struct sfshm_record *r)
{
	int n = sfshm_consumer_poll(cons, r, POLL_MS * t_slowdown());

	if (n != 1)
		fail_msg("poll: %d (%s)", n, n < 0 ? sfshm_strerror(n) : "");
}

/* ---- administration ------------------------------------------------------ */

static void test_names(void **state)
{
	char long_name[SFSHM_TOPIC_MAX + 2];

	(void)state;
	memset(long_name, 'a', sizeof(long_name));
	long_name[SFSHM_TOPIC_MAX] = '\0';
	assert_int_equal(sfshm_topic_name_valid(long_name), 0);
	long_name[SFSHM_TOPIC_MAX] = 'a';
	long_name[SFSHM_TOPIC_MAX + 1] = '\0';
	assert_int_equal(sfshm_topic_name_valid(long_name), -EINVAL);
	assert_int_equal(sfshm_topic_name_valid("a.b_c-D9"), 0);
	assert_int_equal(sfshm_topic_name_valid("..."), 0);
	assert_int_equal(sfshm_topic_name_valid(""), -EINVAL);
	assert_int_equal(sfshm_topic_name_valid("."), -EINVAL);
	assert_int_equal(sfshm_topic_name_valid(".."), -EINVAL);
	assert_int_equal(sfshm_topic_name_valid("a/b"), -EINVAL);
	assert_int_equal(sfshm_topic_name_valid("a b"), -EINVAL);
	assert_int_equal(sfshm_topic_name_valid("caf\xc3\xa9"), -EINVAL);
}

static void test_connect_errors(void **state)
{
	struct sfshm_client_opts o = { .size = sizeof(o) };
	struct sfshm_client *c = NULL;
	char dir[] = "/dev/shm/sfshm-tc-none-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	o.run_dir = dir;
	assert_int_equal(sfshm_connect(&o, &c), -ENOENT);
	assert_null(c);
	rmdir(dir);
	o.size = 0;
	assert_int_equal(sfshm_connect(&o, &c), -EINVAL);
	/* $SFSHM_RUN_DIR is used when the options name no directory. */
	o.size = sizeof(o);
	o.run_dir = NULL;
	setenv(SFSHM_RUN_DIR_ENV, g_d.run_dir, 1);
	assert_int_equal(sfshm_connect(&o, &c), 0);
	unsetenv(SFSHM_RUN_DIR_ENV);
	sfshm_disconnect(c);
	sfshm_disconnect(NULL);
}

static bool list_has(char **names, const char *name)
{
	for (char **p = names; *p; p++)
		if (!strcmp(*p, name))
			return true;
	return false;
}

static void test_admin(void **state)
{
	struct sfshm_client *c = connect_ok();
	struct sfshm_topic_info *ti = NULL;
	struct sfshm_broker_info bi;
	char **names = NULL;
	int n;

	(void)state;
	create_topic(c, "adm-b", 3, 0);
	create_topic(c, "adm-a", 1, SMALL_RING);
	assert_int_equal(sfshm_topic_create(c, "adm-a", NULL), -EEXIST);
	assert_string_not_equal(sfshm_last_error(c), "");

	n = sfshm_topic_list(c, &names);
	assert_true(n >= 2);
	assert_null(names[n]);
	assert_true(list_has(names, "adm-a") && list_has(names, "adm-b"));
	for (int i = 1; i < n; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
	sfshm_free_list(names);

	assert_int_equal(sfshm_topic_describe(c, "adm-b", &ti), 0);
	assert_string_equal(ti->name, "adm-b");
	assert_int_equal(ti->partition_count, 3);
	assert_int_equal(ti->config.partitions, 3);
	assert_true(ti->config.ring_bytes >= SFSHM_RING_MIN_SIZE);
	assert_true(ti->config.mode != 0);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(ti->partitions[i].partition, i);
		assert_int_equal(ti->partitions[i].log_end, 0);
		assert_int_equal(ti->partitions[i].ring_size,
				 ti->config.ring_bytes);
	}
	sfshm_topic_info_free(ti);
	assert_int_equal(sfshm_topic_describe(c, "adm-a", &ti), 0);
	assert_int_equal(ti->config.ring_bytes, SMALL_RING);
	sfshm_topic_info_free(ti);
	sfshm_topic_info_free(NULL);

	assert_int_equal(sfshm_broker_info(c, &bi), 0);
	assert_int_equal(bi.pid, (uint32_t)g_d.pid);
	assert_true(bi.topics >= 2);
	assert_true(bi.clients >= 1);
	assert_string_equal(bi.run_dir, g_d.run_dir);
	assert_true(bi.software[0] != '\0');

	assert_int_equal(sfshm_topic_delete(c, "adm-a"), 0);
	assert_int_equal(sfshm_topic_delete(c, "adm-b"), 0);
	assert_int_equal(sfshm_topic_delete(c, "adm-a"), -ENOENT);
	assert_int_equal(sfshm_topic_describe(c, "adm-b", &ti), -ENOENT);
	n = sfshm_topic_list(c, &names);
	assert_true(n >= 0);
	assert_false(list_has(names, "adm-a") || list_has(names, "adm-b"));
	sfshm_free_list(names);
	sfshm_disconnect(c);
}

static void test_errors(void **state)
{
	struct sfshm_client *c = connect_ok();
	struct sfshm_consumer *cons = consumer_ok(c, SFSHM_RESET_EARLIEST);
	struct sfshm_producer *p = NULL;
	struct sfshm_topic_info *ti = NULL;
	struct sfshm_record r;

	(void)state;
	assert_int_equal(sfshm_topic_create(c, "bad name", NULL), -EINVAL);
	assert_string_not_equal(sfshm_last_error(c), "");
	assert_int_equal(sfshm_topic_create(c, "..", NULL), -EINVAL);
	assert_int_equal(sfshm_producer_open(c, "", NULL, &p), -EINVAL);
	assert_int_equal(sfshm_producer_open(c, "no-such", NULL, &p), -ENOENT);
	assert_null(p);
	assert_int_equal(sfshm_topic_describe(c, "no-such", &ti), -ENOENT);
	assert_int_equal(sfshm_topic_delete(c, "no-such"), -ENOENT);
	assert_int_equal(sfshm_consumer_assign(cons, "no-such", -1,
					       SFSHM_OFFSET_BEGINNING),
			 -ENOENT);
	assert_int_equal(sfshm_consumer_poll(cons, &r, 0), -ENOENT);
	assert_int_equal(sfshm_consumer_seek(cons, "no-such", 0, 0), -ENOENT);

	/* A record over the largest frame: -EMSGSIZE, nothing sent. */
	create_topic(c, "err-big", 2, SMALL_RING);
	assert_int_equal(sfshm_consumer_assign(cons, "err-big", 5, 0), -ENOENT);
	assert_int_equal(sfshm_consumer_assign(cons, "err-big", 1, 0), 0);
	assert_int_equal(sfshm_consumer_assign(cons, "err-big", -1, 0),
			 -EEXIST);
	p = producer_ok(c, "err-big", SFSHM_ACKS_WRITTEN);
	{
		size_t len = SMALL_RING / 8;
		char *big = calloc(1, len);
		struct sfshm_rec rec = { .key_len = -1,
					 .value = big,
					 .value_len = (int32_t)len };
		struct sfshm_delivery d;

		assert_int_equal(sfshm_producer_send(p, 0, &rec, &d),
				 -EMSGSIZE);
		rec.value_len = (int32_t)len - 64;
		assert_int_equal(sfshm_producer_send(p, 1, &rec, &d), 0);
		assert_int_equal(d.partition, 1);
		assert_int_equal(d.offset, 0);
		assert_int_equal(sfshm_producer_send(p, 2, &rec, &d), -EINVAL);
		free(big);
	}
	poll_one(cons, &r);
	assert_int_equal(r.partition, 1);
	assert_int_equal(r.offset, 0);
	assert_int_equal(r.value_len, SMALL_RING / 8 - 64);
	sfshm_producer_close(p);
	sfshm_consumer_close(cons);
	assert_int_equal(sfshm_topic_delete(c, "err-big"), 0);
	sfshm_disconnect(c);
}

/* ---- producing and consuming --------------------------------------------- */

struct keyed {
	uint64_t n;
	int32_t *part; /* partition of each record */
	int64_t *off; /* offset of each record */
	int64_t count[KEYED_PARTS];
	uint64_t *by_off[KEYED_PARTS]; /* sequence number at each offset */
};

static void make_key(char *key, size_t len, uint64_t i)
{
	snprintf(key, len, "user-%" PRIu64, i % 977);
}

static void keyed_produce(struct sfshm_producer *p, struct keyed *k)
{
	for (uint64_t i = 0; i < k->n; i++) {
		char key[32], val[64];
		struct sfshm_hdr h = {
			.key = "h", .key_len = 1, .value = key, .value_len = 3
		};
		struct sfshm_rec rec = { .key = key,
					 .value = val,
					 .value_len = sizeof(val),
					 .hdrs = &h,
					 .hdr_count = i % 3 == 0 };
		struct sfshm_delivery d;
		int err;

		make_key(key, sizeof(key), i);
		rec.key_len = (int32_t)strlen(key);
		memset(val, 'v', sizeof(val));
		memcpy(val, &i, sizeof(i));
		err = sfshm_producer_send(p, SFSHM_PARTITION_ANY, &rec, &d);
		if (err)
			fail_msg("send %" PRIu64 ": %s", i,
				 sfshm_strerror(err));
		assert_int_equal(d.partition,
				 sfshm_partition_for_key(key, strlen(key),
							 KEYED_PARTS));
		/* Offsets are dense and in order per partition. */
		assert_int_equal(d.offset, k->count[d.partition]);
		k->part[i] = d.partition;
		k->off[i] = d.offset;
		k->by_off[d.partition][k->count[d.partition]++] = i;
	}
}

static void keyed_check(const struct keyed *k, const struct sfshm_record *r,
			int64_t *next)
{
	uint64_t i;
	char key[32];
	struct sfshm_hdr h;

	assert_true(r->partition >= 0 && r->partition < KEYED_PARTS);
	assert_int_equal(r->offset, next[r->partition]);
	next[r->partition]++;
	i = value_seq(r);
	assert_true(i < k->n);
	assert_int_equal(k->part[i], r->partition);
	assert_int_equal(k->off[i], r->offset);
	make_key(key, sizeof(key), i);
	assert_int_equal(r->key_len, (int32_t)strlen(key));
	assert_memory_equal(r->key, key, strlen(key));
	assert_string_equal(r->topic, "keyed");
	assert_int_equal(r->header_count, i % 3 == 0);
	if (r->header_count) {
		assert_int_equal(sfshm_record_header(r, 0, &h), 0);
		assert_int_equal(h.key_len, 1);
		assert_int_equal(h.value_len, 3);
		assert_memory_equal(h.value, key, 3);
		assert_int_equal(sfshm_record_header(r, 1, &h), -ERANGE);
	}
}

static void test_keyed(void **state)
{
	struct sfshm_client *c = connect_ok();
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_topic_info *ti;
	struct sfshm_record r;
	struct keyed k = { .n = KEYED_RECORDS };
	int64_t next[KEYED_PARTS] = { 0 };
	uint64_t t0 = t_now_ms();

	(void)state;
	k.part = calloc(k.n, sizeof(*k.part));
	k.off = calloc(k.n, sizeof(*k.off));
	for (int i = 0; i < KEYED_PARTS; i++)
		k.by_off[i] = calloc(k.n, sizeof(uint64_t));
	create_topic(c, "keyed", KEYED_PARTS, 1u << 20);
	p = producer_ok(c, "keyed", SFSHM_ACKS_WRITTEN);
	assert_int_equal(sfshm_producer_partitions(p), KEYED_PARTS);
	keyed_produce(p, &k);
	assert_int_equal(sfshm_producer_flush(p, 10000), 0);
	print_message("  produced %d keyed records with acks in %" PRIu64
		      " ms: %" PRId64 "/%" PRId64 "/%" PRId64 "/%" PRId64 "\n",
		      KEYED_RECORDS, t_now_ms() - t0, k.count[0], k.count[1],
		      k.count[2], k.count[3]);
	for (int i = 0; i < KEYED_PARTS; i++)
		assert_true(k.count[i] > 0);

	assert_int_equal(sfshm_topic_describe(c, "keyed", &ti), 0);
	for (int i = 0; i < KEYED_PARTS; i++) {
		assert_int_equal(ti->partitions[i].log_end, k.count[i]);
		assert_int_equal(ti->partitions[i].written_offset, k.count[i]);
	}
	sfshm_topic_info_free(ti);

	t0 = t_now_ms();
	cons = consumer_at(c, SFSHM_RESET_EARLIEST, "keyed", -1,
			   SFSHM_OFFSET_BEGINNING);
	for (uint64_t n = 0; n < k.n; n++) {
		poll_one(cons, &r);
		keyed_check(&k, &r, next);
	}
	print_message("  consumed them in %" PRIu64 " ms\n", t_now_ms() - t0);
	for (int i = 0; i < KEYED_PARTS; i++) {
		int64_t pos;

		assert_int_equal(next[i], k.count[i]);
		assert_int_equal(
			sfshm_consumer_position(cons, "keyed", i, &pos), 0);
		assert_int_equal(pos, k.count[i]);
	}
	assert_int_equal(sfshm_consumer_poll(cons, &r, 50), 0);
	assert_int_equal(sfshm_consumer_at_end(cons), 1);

	for (int i = 0; i < KEYED_PARTS; i++)
		free(k.by_off[i]);
	free(k.part);
	free(k.off);
	done_with(c, p, cons, "keyed");
}

/* Send @n records numbered from @first to partition 0, no acks waited. */
static void send_seq(struct sfshm_producer *p, uint64_t first, uint64_t n,
		     size_t vlen, int64_t ts_ns)
{
	char val[512];

	assert_true(vlen >= 8 && vlen <= sizeof(val));
	memset(val, 'x', sizeof(val));
	for (uint64_t i = first; i < first + n; i++) {
		struct sfshm_rec rec = { .key_len = -1,
					 .value = val,
					 .value_len = (int32_t)vlen };
		int err;

		if (ts_ns)
			rec.timestamp = ts_ns + (int64_t)i * 1000000000;
		memcpy(val, &i, sizeof(i));
		err = sfshm_producer_send(p, 0, &rec, NULL);
		if (err)
			fail_msg("send %" PRIu64 ": %s", i,
				 sfshm_strerror(err));
	}
}

struct bg_producer {
	uint64_t first, n;
	int err;
	uint32_t done;
};

/* A producer of its own (own client: handles are per thread). */
static void *bg_produce(void *arg)
{
	struct bg_producer *bg = arg;
	struct sfshm_client *c = connect_or_null(&bg->err);
	struct sfshm_producer *p = NULL;
	char val[200];

	if (c)
		bg->err = sfshm_producer_open(c, "lagging", NULL, &p);
	memset(val, 'y', sizeof(val));
	for (uint64_t i = bg->first; !bg->err && i < bg->first + bg->n; i++) {
		struct sfshm_rec rec = { .key_len = -1,
					 .value = val,
					 .value_len = sizeof(val) };

		memcpy(val, &i, sizeof(i));
		bg->err = sfshm_producer_send(p, 0, &rec, NULL);
		if (i % 64 == 0)
			t_sleep_us(200); /* pace: the reader catches up */
	}
	if (!bg->err)
		bg->err = sfshm_producer_flush(p, 30000);
	sfshm_producer_close(p);
	sfshm_disconnect(c);
	__atomic_store_n(&bg->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Where a consumer's records came from, and how often that changed. */
struct sources {
	uint64_t log, ring, switches;
	uint32_t last;
};

/* Expect the record @i next; count its source in @src. */
static void next_from(struct sfshm_consumer *cons, uint64_t i,
		      struct sources *src)
{
	struct sfshm_record r;

	poll_one(cons, &r);
	assert_int_equal(r.offset, (int64_t)i);
	assert_int_equal(value_seq(&r), i);
	src->log += r.hdr_format == HDR_KAFKA;
	src->ring += r.hdr_format == HDR_RING;
	src->switches += src->last && r.hdr_format != src->last;
	src->last = r.hdr_format;
}

/*
 * A consumer that starts after 10x the ring has been produced reads the
 * log, then moves to the ring while a producer keeps going: every offset
 * once, in order, and both sources used.
 */
static void test_log_then_ring(void **state)
{
	const uint64_t before = 10 * SMALL_RING / 200 * 2, during = 20000;
	struct sfshm_client *c = connect_ok();
	struct bg_producer bg = { .first = before, .n = during };
	struct sources src = { 0 };
	struct sfshm_consumer *cons;
	struct sfshm_producer *p;
	struct sfshm_topic_info *ti;
	struct sfshm_record r;
	uint64_t switches;
	pthread_t th;

	(void)state;
	create_topic(c, "lagging", 1, SMALL_RING);
	p = producer_ok(c, "lagging", SFSHM_ACKS_WRITTEN);
	send_seq(p, 0, before, 200, 0);
	assert_int_equal(sfshm_producer_flush(p, 10000), 0);
	assert_int_equal(sfshm_topic_describe(c, "lagging", &ti), 0);
	assert_true(ti->partitions[0].ring_clean > 2 * SMALL_RING);
	sfshm_topic_info_free(ti);

	assert_int_equal(pthread_create(&th, NULL, bg_produce, &bg), 0);
	cons = consumer_at(c, SFSHM_RESET_NONE, "lagging", 0,
			   SFSHM_OFFSET_BEGINNING);
	for (uint64_t i = 0; i < before + during; i++)
		next_from(cons, i, &src);
	switches = src.switches;
	pthread_join(th, NULL);
	assert_int_equal(bg.err, 0);
	/*
	 * The daemon erases what it persisted at once, so a reader slower
	 * than the persister keeps going back to the log.  One waiting at
	 * the end of the ring is woken by the commit and usually wins: give
	 * it records one at a time until one comes from the ring.
	 */
	for (uint64_t i = before + during;
	     src.ring == 0 && i < before + during + 1000; i++) {
		send_seq(p, i, 1, 200, 0);
		next_from(cons, i, &src);
	}
	assert_int_equal(sfshm_consumer_poll(cons, &r, 50), 0);
	print_message("  %" PRIu64 " records from the log, %" PRIu64
		      " from the ring, %" PRIu64 " switches\n",
		      src.log, src.ring, switches);
	assert_true(src.log >= before - SMALL_RING / 200);
	assert_true(src.ring > 0);
	done_with(c, p, cons, "lagging");
}

/* ---- seeking ------------------------------------------------------------- */

#define SEEK_N 1000
#define SEEK_T0_MS 1700000000000LL

static void expect_next(struct sfshm_consumer *cons, int64_t off)
{
	struct sfshm_record r;

	poll_one(cons, &r);
	assert_int_equal(r.offset, off);
	assert_int_equal(value_seq(&r), (uint64_t)off);
}

static void expect_none(struct sfshm_consumer *cons)
{
	struct sfshm_record r;

	assert_int_equal(sfshm_consumer_poll(cons, &r, 30), 0);
}

static void test_seek(void **state)
{
	struct sfshm_client *c = connect_ok();
	struct sfshm_consumer *cons, *strict;
	struct sfshm_producer *p;
	struct sfshm_record r;
	int64_t pos;

	(void)state;
	create_topic(c, "seeking", 2, SMALL_RING);
	p = producer_ok(c, "seeking", SFSHM_ACKS_WRITTEN);
	/* Timestamps one second apart, from SEEK_T0_MS. */
	send_seq(p, 0, SEEK_N, 100, SEEK_T0_MS * 1000000);
	assert_int_equal(sfshm_producer_flush(p, 10000), 0);

	cons = consumer_at(c, SFSHM_RESET_EARLIEST, "seeking", 0,
			   SFSHM_OFFSET_END);
	assert_int_equal(sfshm_consumer_position(cons, "seeking", 0, &pos), 0);
	assert_int_equal(pos, SEEK_N);
	expect_none(cons);
	assert_int_equal(sfshm_consumer_at_end(cons), 1);

	assert_int_equal(sfshm_consumer_seek_tail(cons, "seeking", 0, 10), 0);
	for (int64_t i = SEEK_N - 10; i < SEEK_N; i++)
		expect_next(cons, i);
	expect_none(cons);

	assert_int_equal(sfshm_consumer_seek_time(cons, "seeking", 0,
						  SEEK_T0_MS + 500 * 1000),
			 0);
	poll_one(cons, &r);
	assert_int_equal(r.offset, 500);
	assert_int_equal(r.timestamp, SEEK_T0_MS + 500 * 1000);
	assert_int_equal(sfshm_consumer_seek_time(cons, "seeking", 0,
						  SEEK_T0_MS + 499 * 1000 + 1),
			 0);
	expect_next(cons, 500);
	assert_int_equal(sfshm_consumer_seek_time(cons, "seeking", 0,
						  SEEK_T0_MS + SEEK_N * 1000),
			 0);
	expect_none(cons);

	assert_int_equal(sfshm_consumer_seek(cons, "seeking", 0,
					     SFSHM_OFFSET_BEGINNING),
			 0);
	expect_next(cons, 0);
	assert_int_equal(sfshm_consumer_seek(cons, "seeking", 0, 777), 0);
	assert_int_equal(sfshm_consumer_position(cons, "seeking", 0, &pos), 0);
	assert_int_equal(pos, 777);
	expect_next(cons, 777);
	/* Beyond the end: out of range, EARLIEST goes to the start. */
	assert_int_equal(sfshm_consumer_seek(cons, "seeking", 0, 5000), 0);
	expect_next(cons, 0);
	assert_int_equal(sfshm_consumer_seek(cons, "seeking", 1, 0), -ENOENT);
	assert_int_equal(sfshm_consumer_seek(cons, "nope", 0, 0), -ENOENT);

	strict = consumer_ok(c, SFSHM_RESET_NONE);
	assert_int_equal(sfshm_consumer_assign(strict, "seeking", 0, 5000), 0);
	assert_int_equal(sfshm_consumer_poll(strict, &r, 0), -ERANGE);
	assert_int_equal(sfshm_consumer_poll(strict, &r, 0), -ERANGE);
	assert_int_equal(sfshm_consumer_seek(strict, "seeking", -1, 42), 0);
	expect_next(strict, 42);
	sfshm_consumer_close(strict);

	strict = consumer_ok(c, SFSHM_RESET_LATEST);
	assert_int_equal(sfshm_consumer_assign(strict, "seeking", 0, 5000), 0);
	expect_none(strict);
	assert_int_equal(sfshm_consumer_position(strict, "seeking", 0, &pos),
			 0);
	assert_int_equal(pos, SEEK_N);
	/* A new record arrives: the consumer at the end gets it. */
	send_seq(p, SEEK_N, 1, 100, SEEK_T0_MS * 1000000);
	expect_next(strict, SEEK_N);
	sfshm_consumer_close(strict);

	done_with(c, p, cons, "seeking");
}

/* ---- acknowledgements, batches, claims ----------------------------------- */

static void test_acks(void **state)
{
	struct sfshm_client *c = connect_ok();
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_topic_info *ti;
	struct sfshm_delivery d;
	struct sfshm_rec recs[10];
	struct sfshm_claim cl;
	uint64_t seq[10];
	int n;

	(void)state;
	create_topic(c, "acks", 3, SMALL_RING);
	p = producer_ok(c, "acks", SFSHM_ACKS_DURABLE);
	for (uint64_t i = 0; i < 10; i++) {
		seq[i] = i;
		recs[i] = u64_rec(&seq[i]);
	}
	assert_int_equal(sfshm_producer_send(p, 2, &recs[0], &d), 0);
	assert_int_equal(d.partition, 2);
	assert_int_equal(d.offset, 0);
	assert_int_equal(sfshm_topic_describe(c, "acks", &ti), 0);
	assert_true(ti->partitions[2].durable_offset >= 1);
	sfshm_topic_info_free(ti);

	/* A batch: one acknowledgement, the first record's offset. */
	n = sfshm_producer_send_batch(p, 2, &recs[1], 9, &d);
	assert_int_equal(n, 9);
	assert_int_equal(d.partition, 2);
	assert_int_equal(d.offset, 1);

	/* Zero-copy: claim, fill, commit. */
	{
		struct sfshm_rec shape = { .key_len = -1,
					   .value_len = sizeof(uint64_t) };
		uint64_t v = 10;

		assert_int_equal(sfshm_producer_claim(p, 2, &shape, &cl), 2);
		memcpy(cl.value, &v, sizeof(v));
		assert_int_equal(sfshm_producer_commit(p, 2, &cl, &d), 0);
		assert_int_equal(d.offset, 10);
		/* An aborted claim takes no offset. */
		assert_int_equal(sfshm_producer_claim(p, 2, &shape, &cl), 2);
		assert_int_equal(sfshm_producer_abort(p, 2, &cl), 0);
		v = 11;
		shape.value = &v;
		assert_int_equal(sfshm_producer_send(p, 2, &shape, &d), 0);
		assert_int_equal(d.offset, 11);
		/* By key, a claim must have its key. */
		assert_int_equal(sfshm_producer_claim(p, SFSHM_PARTITION_ANY,
						      &shape, &cl),
				 -EINVAL);
	}
	/* Null keys go round-robin. */
	{
		int per[3] = { 0 };

		for (int i = 0; i < 6; i++) {
			assert_int_equal(
				sfshm_producer_send(p, SFSHM_PARTITION_ANY,
						    &recs[0], &d),
				0);
			per[d.partition]++;
		}
		assert_true(per[0] == 2 && per[1] == 2 && per[2] == 2);
	}
	assert_int_equal(sfshm_producer_flush(p, 10000), 0);
	sfshm_producer_close(p);

	/* acks none: no offset, flush returns at once. */
	{
		struct sfshm_producer_opts o = { .size = sizeof(o),
						 .acks = SFSHM_ACKS_NONE,
						 .timeout_ms = 1000 };

		assert_int_equal(sfshm_producer_open(c, "acks", &o, &p), 0);
		assert_int_equal(sfshm_producer_send(p, 0, &recs[0], &d), 0);
		assert_int_equal(d.offset, -1);
		assert_int_equal(sfshm_producer_flush(p, 0), 0);
		sfshm_producer_close(p);
	}

	cons = consumer_at(c, SFSHM_RESET_EARLIEST, "acks", 2,
			   SFSHM_OFFSET_BEGINNING);
	for (int64_t i = 0; i < 12; i++)
		expect_next(cons, i);
	sfshm_consumer_close(cons);
	assert_int_equal(sfshm_topic_delete(c, "acks"), 0);
	sfshm_disconnect(c);
}

/* Check the two headers test_headers() sends. */
static void check_headers(const struct sfshm_record *r)
{
	struct sfshm_hdr h;

	assert_int_equal(r->header_count, 2);
	assert_int_equal(sfshm_record_header(r, 0, &h), 0);
	assert_int_equal(h.key_len, 2);
	assert_memory_equal(h.key, "k1", 2);
	assert_int_equal(h.value_len, 5);
	assert_memory_equal(h.value, "hello", 5);
	assert_int_equal(sfshm_record_header(r, 1, &h), 0);
	assert_int_equal(h.key_len, 0);
	assert_int_equal(h.value_len, -1);
	assert_null(h.value);
	assert_int_equal(sfshm_record_header(r, 2, &h), -ERANGE);
	assert_int_equal(r->key_len, -1);
	assert_null(r->key);
	assert_int_equal(r->value_len, 8);
	assert_int_equal(r->timestamp, 1700000000123LL);
}

/* Headers, null key and timestamp read the same from ring and log. */
static void test_headers(void **state)
{
	struct sfshm_client *c = connect_ok();
	struct sfshm_hdr hdrs[2] = {
		{ .key = "k1", .key_len = 2, .value = "hello", .value_len = 5 },
		{ .key = "", .key_len = 0, .value_len = -1 },
	};
	uint64_t v = 0;
	struct sfshm_rec rec = { .key_len = -1,
				 .value = &v,
				 .value_len = sizeof(v),
				 .timestamp = 1700000000123456789LL,
				 .hdrs = hdrs,
				 .hdr_count = 2 };
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_record r;
	bool seen_ring = false;

	(void)state;
	create_topic(c, "headers", 1, SMALL_RING);
	p = producer_ok(c, "headers", SFSHM_ACKS_NONE);
	cons = consumer_at(c, SFSHM_RESET_EARLIEST, "headers", 0,
			   SFSHM_OFFSET_END);
	expect_none(cons);
	/* A reader waiting on the ring usually beats the persister. */
	for (v = 0; v < 100 && !seen_ring; v++) {
		assert_int_equal(sfshm_producer_send(p, 0, &rec, NULL), 0);
		poll_one(cons, &r);
		assert_int_equal(r.offset, (int64_t)v);
		check_headers(&r);
		seen_ring = r.hdr_format == HDR_RING;
	}
	assert_true(seen_ring);
	/* Wrap the ring: the first records are erased, only in the log. */
	for (uint64_t i = 0; i < 2 * SMALL_RING / 64; i++)
		assert_int_equal(sfshm_producer_send(p, 0, &rec, NULL), 0);
	assert_int_equal(sfshm_consumer_seek(cons, "headers", 0,
					     SFSHM_OFFSET_BEGINNING),
			 0);
	poll_one(cons, &r);
	assert_int_equal(r.offset, 0);
	assert_int_equal(r.hdr_format, HDR_KAFKA);
	check_headers(&r);
	done_with(c, p, cons, "headers");
}

/* ---- deletion under attached clients ------------------------------------- */

static void test_delete_attached(void **state)
{
	struct sfshm_client *c = connect_ok();
	struct sfshm_client *admin = connect_ok();
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_record r;
	uint64_t v = 0;
	struct sfshm_rec rec = u64_rec(&v);
	struct sfshm_delivery d;

	(void)state;
	create_topic(admin, "doomed", 1, SMALL_RING);
	p = producer_ok(c, "doomed", SFSHM_ACKS_WRITTEN);
	cons = consumer_at(c, SFSHM_RESET_EARLIEST, "doomed", -1,
			   SFSHM_OFFSET_BEGINNING);
	assert_int_equal(sfshm_producer_send(p, 0, &rec, &d), 0);
	expect_next(cons, 0);
	assert_int_equal(sfshm_topic_delete(admin, "doomed"), 0);
	assert_int_equal(sfshm_producer_send(p, 0, &rec, &d), -ENOENT);
	assert_int_equal(sfshm_producer_send(p, 0, &rec, NULL), -ENOENT);
	assert_int_equal(sfshm_consumer_poll(cons, &r, 100), -ENOENT);
	sfshm_consumer_close(cons);
	sfshm_producer_close(p);
	/* The name is free again. */
	create_topic(admin, "doomed", 1, SMALL_RING);
	assert_int_equal(sfshm_topic_delete(admin, "doomed"), 0);
	sfshm_disconnect(admin);
	sfshm_disconnect(c);
}

/*
 * The daemon stops under attached clients: they are told (-ESHUTDOWN);
 * started again on the same directories it has the topic and its records.
 */
static void test_restart(void **state)
{
	struct sfshm_client *c = connect_ok();
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_record r;
	uint64_t v = 0;
	struct sfshm_rec rec = u64_rec(&v);
	struct sfshm_delivery d;
	char **names;

	(void)state;
	create_topic(c, "durable", 1, SMALL_RING);
	p = producer_ok(c, "durable", SFSHM_ACKS_DURABLE);
	cons = consumer_at(c, SFSHM_RESET_EARLIEST, "durable", 0,
			   SFSHM_OFFSET_BEGINNING);
	for (v = 0; v < 3; v++) {
		assert_int_equal(sfshm_producer_send(p, 0, &rec, &d), 0);
		assert_int_equal(d.offset, (int64_t)v);
	}
	assert_int_equal(t_daemon_stop(&g_d, SIGTERM), 0);
	assert_int_equal(sfshm_producer_send(p, 0, &rec, NULL), -ESHUTDOWN);
	assert_int_equal(sfshm_consumer_poll(cons, &r, 0), -ESHUTDOWN);
	assert_true(sfshm_topic_list(c, &names) < 0);
	done_with(c, p, cons, NULL);

	assert_int_equal(t_daemon_start(&g_d), 0);
	c = connect_ok();
	cons = consumer_at(c, SFSHM_RESET_EARLIEST, "durable", 0,
			   SFSHM_OFFSET_BEGINNING);
	for (int64_t i = 0; i < 3; i++)
		expect_next(cons, i);
	expect_none(cons);
	p = producer_ok(c, "durable", SFSHM_ACKS_WRITTEN);
	assert_int_equal(sfshm_producer_send(p, 0, &rec, &d), 0);
	assert_int_equal(d.offset, 3);
	expect_next(cons, 3);
	done_with(c, p, cons, "durable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_acks),
		cmocka_unit_test(test_seek),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_delete_attached),
		cmocka_unit_test(test_log_then_ring),
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_restart),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
