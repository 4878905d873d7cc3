// SPDX-License-Identifier: MIT
/*
 * test_offsets.c - the committed-offsets store on real files.
 *
 * Every test works in a fresh directory under ${TMPDIR:-/tmp}.  The crash
 * tests run a child process that applies a deterministic sequence of
 * operations (commits and group deletions drawn from a seeded generator)
 * and reports each one through a pipe after the call returned; the parent
 * SIGKILLs it at a random moment - or while it is compacting - then
 * reopens the store and checks that it holds exactly the state after the
 * acknowledged operations, or after one more (the one in flight).  The
 * compaction crash points are also built deterministically, from copies
 * of the segment files taken before and after a compaction.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "offsets.h"
#include "recordbatch.h"
#include "sf_be.h"
#include "t_util.h"

#define SMALL_SEG (16u << 10)
#define SMALL_BATCH (128u << 10)
#define MAX_SEGS 256

struct fx {
	char root[256];
	char dir[320];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || t_tmpdir(f->root, sizeof(f->root), "sfd-offsets")) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/%s", f->root,
		 SFD_OFFSETS_DIR_NAME);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	t_rm_rf(f->root);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* Open with small segments; no cmocka asserts (children use it). */
static int open_small_seg(const char *dir, uint64_t seg, struct sfd_offsets **o)
{
	struct sfd_offsets_config c;

	sfd_offsets_config_init(&c);
	c.segment_bytes = seg;
	c.max_batch_bytes = SMALL_BATCH;
	return sfd_offsets_open_config(dir, &c, o);
}

static struct sfd_offsets *open_small(const char *dir)
{
	struct sfd_offsets *o = NULL;

	assert_int_equal(open_small_seg(dir, SMALL_SEG, &o), 0);
	return o;
}

static int dump_one(void *arg, const char *group, const char *topic,
		    uint32_t partition, int64_t offset, const char *metadata)
{
	fprintf(arg, "%s/%s/%u=%lld:%s\n", group, topic, partition,
		(long long)offset, metadata);
	return 0;
}

/* The whole table as text, in the store's order; free() it. */
static char *dump(struct sfd_offsets *o)
{
	char *p = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&p, &len);

	assert_non_null(f);
	assert_int_equal(sfd_offsets_foreach(o, NULL, dump_one, f), 0);
	fclose(f);
	return p;
}

static void assert_get(struct sfd_offsets *o, const char *group,
		       const char *topic, uint32_t partition, int64_t want,
		       const char *want_md)
{
	const char *md = NULL;
	int64_t off = -1;

	assert_int_equal(sfd_offsets_get(o, group, topic, partition, &off, &md),
			 0);
	assert_int_equal(off, want);
	assert_string_equal(md, want_md);
}

static void assert_absent(struct sfd_offsets *o, const char *group,
			  const char *topic, uint32_t partition)
{
	int64_t off;

	assert_int_equal(sfd_offsets_get(o, group, topic, partition, &off,
					 NULL),
			 -ENOENT);
}

static int commit1(struct sfd_offsets *o, const char *group, const char *topic,
		   uint32_t partition, int64_t offset, const char *md)
{
	struct sfd_offset_commit c = { topic, partition, offset, md };

	return sfd_offsets_commit(o, group, &c, 1);
}

static struct sfd_offsets_stats stats(const struct sfd_offsets *o)
{
	struct sfd_offsets_stats st;

	sfd_offsets_get_stats(o, &st);
	return st;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Base offsets of the segments in @dir (their .log files), ascending. */
static int list_bases(const char *dir, int64_t *bases, int max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len == 24 && !strcmp(de->d_name + 20, ".log") && n < max)
			bases[n++] = strtoll(de->d_name, NULL, 10);
	}
	closedir(d);
	qsort(bases, (size_t)n, sizeof(*bases), cmp_i64);
	return n;
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Copy @from to @to, at most @limit bytes (-1: all); a missing file is
 * skipped. */
static void copy_file(const char *from, const char *to, off_t limit)
{
	int in = open(from, O_RDONLY), out;
	char buf[8192];
	off_t done = 0;
	ssize_t n;

	if (in < 0)
		return;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(out >= 0);
	while ((limit < 0 || done < limit) &&
	       (n = read(in, buf, sizeof(buf))) > 0) {
		if (limit >= 0 && n > limit - done)
			n = (ssize_t)(limit - done);
		assert_int_equal(write(out, buf, (size_t)n), n);
		done += n;
	}
	close(in);
	close(out);
}

/* Copy a segment's three files; the .log cut to @log_limit (-1: all). */
static void copy_seg(const char *from, const char *to, int64_t base,
		     off_t log_limit)
{
	static const char *const suffix[] = { ".log", ".index", ".timeindex" };
	char a[400], b[400];

	for (int i = 0; i < 3; i++) {
		t_seg_path(a, sizeof(a), from, base, suffix[i]);
		t_seg_path(b, sizeof(b), to, base, suffix[i]);
		copy_file(a, b, i == 0 ? log_limit : -1);
	}
}

static void make_dir(char *buf, size_t len, const char *root, const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
	assert_int_equal(mkdir(buf, 0755), 0);
}

/* ---- a deterministic workload and its model ---------------------------- */

#define NG 4
#define NT 3
#define NP 4
#define NKEYS (NG * NT * NP)
#define MAX_OP_KEYS 6

struct op {
	bool del; /* delete group g, else commit */
	int g;
	int n;
	int t[MAX_OP_KEYS];
	int p[MAX_OP_KEYS];
	int64_t off;
};

/* The table of the workload's keys: key k = (g * NT + t) * NP + p. */
struct model {
	bool has[NKEYS];
	int64_t off[NKEYS];
};

static int key_of(int g, int t, int p)
{
	return (g * NT + t) * NP + p;
}

/* The metadata committed with @off: "m<off>" then dots, 0..60 of them. */
static void md_of(int64_t off, char *buf, size_t len)
{
	int n = snprintf(buf, len, "m%lld", (long long)off);

	for (int i = 0; i < (int)(off % 61) && n + 1 < (int)len; i++)
		buf[n++] = '.';
	buf[n] = 0;
}

static uint64_t round_seed(int round)
{
	return 0x9e3779b97f4a7c15ull ^ ((uint64_t)round * 0x100000001b3ull);
}

/* Operation @i of round @round, drawn from *@rng (called in order). */
static void gen_op(uint64_t *rng, int round, uint32_t i, struct op *op)
{
	uint64_t r = t_rand(rng);

	op->g = (int)(r % NG);
	op->del = (r >> 8) % 16 == 0;
	op->n = 1 + (int)((r >> 16) % MAX_OP_KEYS);
	op->off = (int64_t)round * 1000000 + i;
	for (int k = 0; k < op->n; k++) {
		r = t_rand(rng);
		op->t[k] = (int)(r % NT);
		op->p[k] = (int)((r >> 8) % NP);
	}
}

static void model_apply(struct model *m, const struct op *op)
{
	if (op->del) {
		for (int k = 0; k < NT * NP; k++)
			m->has[op->g * NT * NP + k] = false;
		return;
	}
	for (int k = 0; k < op->n; k++) {
		int key = key_of(op->g, op->t[k], op->p[k]);

		m->has[key] = true;
		m->off[key] = op->off;
	}
}

/* Apply @op to the store; deleting an empty group is no error. */
static int store_apply(struct sfd_offsets *o, const struct op *op)
{
	struct sfd_offset_commit c[MAX_OP_KEYS];
	char g[16], t[MAX_OP_KEYS][16], md[96];
	int ret;

	snprintf(g, sizeof(g), "g%d", op->g);
	if (op->del) {
		ret = sfd_offsets_delete_group(o, g);
		return ret == -ENOENT ? 0 : ret;
	}
	md_of(op->off, md, sizeof(md));
	for (int k = 0; k < op->n; k++) {
		snprintf(t[k], sizeof(t[k]), "t%d", op->t[k]);
		c[k] = (struct sfd_offset_commit){ t[k], (uint32_t)op->p[k],
						   op->off, md };
	}
	return sfd_offsets_commit(o, g, c, (unsigned)op->n);
}

static bool model_equal(const struct model *a, const struct model *b)
{
	for (int k = 0; k < NKEYS; k++)
		if (a->has[k] != b->has[k] ||
		    (a->has[k] && a->off[k] != b->off[k]))
			return false;
	return true;
}

struct load_ctx {
	struct model m;
	int errors;
};

static int load_one(void *arg, const char *group, const char *topic,
		    uint32_t partition, int64_t offset, const char *metadata)
{
	struct load_ctx *c = arg;
	char md[96];
	int g, t;

	md_of(offset, md, sizeof(md));
	if (sscanf(group, "g%d", &g) != 1 || sscanf(topic, "t%d", &t) != 1 ||
	    g < 0 || g >= NG || t < 0 || t >= NT || partition >= NP ||
	    strcmp(md, metadata)) {
		c->errors++;
		return 0;
	}
	c->m.has[key_of(g, t, (int)partition)] = true;
	c->m.off[key_of(g, t, (int)partition)] = offset;
	return 0;
}

/* The store's table in model form. */
static void load_model(struct sfd_offsets *o, struct model *m)
{
	struct load_ctx c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(sfd_offsets_foreach(o, NULL, load_one, &c), 0);
	assert_int_equal(c.errors, 0);
	*m = c.m;
}

/* ---- round trips -------------------------------------------------------- */

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	struct sfd_offset_commit c[3] = {
		{ "orders", 0, 42, "hello" },
		{ "orders", 1, 7, NULL },
		{ "payments", 0, 0, "" },
	};
	struct sfd_offset_commit twice[2] = {
		{ "orders", 0, 100, "a" },
		{ "orders", 0, 101, "b" },
	};

	assert_false(sfd_offsets_compact_needed(o));
	assert_int_equal(sfd_offsets_commit(o, "g1", c, 3), 0);
	assert_get(o, "g1", "orders", 0, 42, "hello");
	assert_get(o, "g1", "orders", 1, 7, "");
	assert_get(o, "g1", "payments", 0, 0, "");
	assert_absent(o, "g1", "orders", 2);
	assert_absent(o, "g1", "order", 0);
	assert_absent(o, "g2", "orders", 0);

	/* A smaller offset is an ordinary commit (reset-offsets). */
	assert_int_equal(commit1(o, "g1", "orders", 0, 3, "back"), 0);
	assert_get(o, "g1", "orders", 0, 3, "back");
	/* The same key twice in one commit: the last one wins. */
	assert_int_equal(sfd_offsets_commit(o, "g1", twice, 2), 0);
	assert_get(o, "g1", "orders", 0, 101, "b");

	assert_int_equal(stats(o).groups, 1);
	assert_int_equal(stats(o).live, 3);
	assert_int_equal(stats(o).appended_batches, 3);
	assert_int_equal(stats(o).log_records, 6);
	sfd_offsets_close(o);
}

static void test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	struct sfd_offset_commit many[40];
	char name[300], md[SFD_OFFSETS_METADATA_MAX + 2];

	assert_int_equal(commit1(o, "", "t", 0, 1, NULL), -EINVAL);
	assert_int_equal(commit1(o, NULL, "t", 0, 1, NULL), -EINVAL);
	assert_int_equal(commit1(o, "g", "", 0, 1, NULL), -EINVAL);
	assert_int_equal(commit1(o, "g", NULL, 0, 1, NULL), -EINVAL);
	assert_int_equal(commit1(o, "g", "t", 0x80000000u, 1, NULL), -EINVAL);
	assert_int_equal(commit1(o, "g", "t", 0, -1, NULL), -EINVAL);
	assert_int_equal(sfd_offsets_commit(o, "g", many, 0), -EINVAL);
	memset(name, 'n', sizeof(name));
	name[SFD_OFFSETS_GROUP_MAX + 1] = 0;
	assert_int_equal(commit1(o, name, "t", 0, 1, NULL), -EINVAL);
	name[SFD_OFFSETS_GROUP_MAX] = 0;
	assert_int_equal(commit1(o, name, "t", 0, 1, NULL), 0);
	name[SFD_OFFSETS_TOPIC_MAX + 1] = 0;
	assert_int_equal(commit1(o, "g", name, 0, 1, NULL), -EINVAL);
	name[SFD_OFFSETS_TOPIC_MAX] = 0;
	assert_int_equal(commit1(o, "g", name, 0x7fffffffu, 1, NULL), 0);
	assert_get(o, "g", name, 0x7fffffffu, 1, "");

	memset(md, 'x', sizeof(md));
	md[SFD_OFFSETS_METADATA_MAX + 1] = 0;
	assert_int_equal(commit1(o, "g", "t", 0, 1, md), -EMSGSIZE);
	md[SFD_OFFSETS_METADATA_MAX] = 0;
	assert_int_equal(commit1(o, "g", "t", 0, 1, md), 0);
	assert_get(o, "g", "t", 0, 1, md);

	/* Larger than one batch: refused whole, nothing changes. */
	for (unsigned i = 0; i < 40; i++)
		many[i] = (struct sfd_offset_commit){ "big", i, i, md };
	assert_int_equal(sfd_offsets_commit(o, "big", many, 40), -EMSGSIZE);
	assert_absent(o, "big", "big", 0);
	assert_int_equal(stats(o).groups, 2);
	assert_int_equal(sfd_offsets_delete_group(o, ""), -EINVAL);
	sfd_offsets_close(o);
}

/* The exact bytes of a commit and of a tombstone, as Kafka writes them. */
static void test_kafka_format(void **state)
{
	static const uint8_t key[] = { 0, 1,   0,   3, 'g', 'r', 'p', 0,
				       2, 't', 'p', 0, 0,   0,	 5 };
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	struct timespec ts;
	struct sf_rb_record rec;
	struct sf_rb_iter it;
	uint8_t buf[4096];
	char path[400];
	int64_t t0, t1, commit_ts;
	ssize_t len;
	int fd;

	clock_gettime(CLOCK_REALTIME, &ts);
	t0 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	assert_int_equal(commit1(o, "grp", "tp", 5, 1234, "meta"), 0);
	assert_int_equal(sfd_offsets_delete_group(o, "grp"), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	t1 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	sfd_offsets_close(o);

	t_seg_path(path, sizeof(path), f->dir, 0, ".log");
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	len = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(len > 0);

	assert_int_equal(sf_rb_iter_init(&it, buf, (size_t)len), 0);
	assert_int_equal(sf_rb_iter_next(&it, &rec), 1);
	assert_int_equal(rec.key.len, sizeof(key));
	assert_memory_equal(rec.key.ptr, key, sizeof(key));
	assert_int_equal(rec.value.len, 2 + 8 + 4 + 2 + 4 + 8);
	{
		const uint8_t *v = rec.value.ptr;

		assert_int_equal(sf_get_be16(v), 3); /* value version */
		assert_int_equal(sf_get_be64(v + 2), 1234);
		assert_int_equal((int32_t)sf_get_be32(v + 10), -1);
		assert_int_equal(sf_get_be16(v + 14), 4);
		assert_memory_equal(v + 16, "meta", 4);
		commit_ts = (int64_t)sf_get_be64(v + 20);
		assert_true(commit_ts >= t0 && commit_ts <= t1);
	}
	assert_int_equal(sf_rb_iter_next(&it, &rec), 0);

	/* The second batch: a tombstone, same key, null value. */
	len -= (ssize_t)sf_rb_size(&it.hdr);
	assert_int_equal(sf_rb_iter_init(&it, buf + sf_rb_size(&it.hdr),
					 (size_t)len),
			 0);
	assert_int_equal(sf_rb_iter_next(&it, &rec), 1);
	assert_memory_equal(rec.key.ptr, key, sizeof(key));
	assert_int_equal(rec.value.len, SF_RB_NULL);
}

struct visit {
	char last[64];
	unsigned n;
	unsigned total;
	bool ordered;
};

static int visit_group(void *arg, const char *group, uint32_t count)
{
	struct visit *v = arg;

	if (v->n && strcmp(v->last, group) >= 0)
		v->ordered = false;
	snprintf(v->last, sizeof(v->last), "%s", group);
	v->n++;
	v->total += count;
	return 0;
}

static int stop_at_third(void *arg, const char *group, uint32_t count)
{
	(void)group;
	(void)count;
	return ++*(int *)arg == 3 ? -ECANCELED : 0;
}

static int count_one(void *arg, const char *group, const char *topic,
		     uint32_t partition, int64_t offset, const char *metadata)
{
	(void)group;
	(void)topic;
	(void)partition;
	(void)offset;
	(void)metadata;
	++*(int *)arg;
	return 0;
}

#define MANY_GROUPS 200

static void commit_group_n(struct sfd_offsets *o, int i)
{
	struct sfd_offset_commit c[5];
	char g[32], md[5][48];

	snprintf(g, sizeof(g), "grp-%04d", (i * 7919) % MANY_GROUPS);
	for (int k = 0; k < 5; k++) {
		snprintf(md[k], sizeof(md[k]),
			 "h\xc3\xa9llo \xe2\x9c\x93 %d/%d", i, k);
		c[k] = (struct sfd_offset_commit){ k < 3 ? "alpha" : "beta",
						   (uint32_t)k, i * 10 + k,
						   md[k] };
	}
	assert_int_equal(sfd_offsets_commit(o, g, c, 5), 0);
}

static void test_many_groups(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	struct visit v = { .ordered = true };
	char *before, *after;
	int n = 0;

	for (int i = 0; i < MANY_GROUPS; i++)
		commit_group_n(o, i);
	assert_int_equal(sfd_offsets_groups(o, visit_group, &v), 0);
	assert_int_equal(v.n, MANY_GROUPS);
	assert_int_equal(v.total, MANY_GROUPS * 5);
	assert_true(v.ordered);
	assert_int_equal(sfd_offsets_groups(o, stop_at_third, &n), -ECANCELED);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(sfd_offsets_foreach(o, "grp-0042", count_one, &n), 0);
	assert_int_equal(n, 5);
	n = 0;
	assert_int_equal(sfd_offsets_foreach(o, "grp-9999", count_one, &n), 0);
	assert_int_equal(n, 0);
	assert_get(o, "grp-0000", "beta", 4, 4,
		   "h\xc3\xa9llo \xe2\x9c\x93 0/4");

	before = dump(o);
	sfd_offsets_close(o);
	o = open_small(f->dir);
	after = dump(o);
	assert_string_equal(before, after);
	assert_int_equal(stats(o).groups, MANY_GROUPS);
	assert_int_equal(stats(o).live, MANY_GROUPS * 5);
	assert_int_equal(stats(o).replayed_records, MANY_GROUPS * 5);
	assert_int_equal(stats(o).bad_records, 0);
	free(before);
	free(after);
	sfd_offsets_close(o);
}

static void test_tombstones(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	struct sfd_offset_commit c[3] = { { "a", 0, 1, "x" },
					  { "a", 1, 2, "y" },
					  { "b", 0, 3, "z" } };
	int n = 0;

	assert_int_equal(sfd_offsets_commit(o, "g1", c, 3), 0);
	assert_int_equal(sfd_offsets_commit(o, "g2", c, 2), 0);
	assert_int_equal(sfd_offsets_delete_group(o, "g1"), 0);
	assert_absent(o, "g1", "a", 0);
	assert_absent(o, "g1", "b", 0);
	assert_int_equal(sfd_offsets_foreach(o, "g1", count_one, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sfd_offsets_delete_group(o, "g1"), -ENOENT);
	assert_int_equal(sfd_offsets_delete_group(o, "nope"), -ENOENT);
	assert_int_equal(stats(o).groups, 1);
	assert_int_equal(stats(o).live, 2);
	sfd_offsets_close(o);

	o = open_small(f->dir);
	assert_absent(o, "g1", "a", 0);
	assert_get(o, "g2", "a", 1, 2, "y");
	assert_int_equal(stats(o).live, 2);
	/* Committing again after a deletion. */
	assert_int_equal(commit1(o, "g1", "b", 0, 9, "again"), 0);
	assert_int_equal(sfd_offsets_delete_group(o, "g2"), 0);
	sfd_offsets_close(o);

	o = open_small(f->dir);
	assert_get(o, "g1", "b", 0, 9, "again");
	assert_absent(o, "g1", "a", 0);
	assert_absent(o, "g2", "a", 1);
	assert_int_equal(stats(o).live, 1);
	assert_int_equal(stats(o).groups, 1);
	sfd_offsets_close(o);
}

static void test_reopen(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	uint64_t rng = 42;
	char *a, *b;

	for (uint32_t i = 1; i <= 150; i++) {
		struct op op;

		gen_op(&rng, 1, i, &op);
		assert_int_equal(store_apply(o, &op), 0);
	}
	a = dump(o);
	sfd_offsets_close(o);
	o = open_small(f->dir);
	b = dump(o);
	assert_string_equal(a, b);
	free(b);
	/* A reopened store goes on where it was. */
	assert_int_equal(commit1(o, "g0", "t0", 0, 77, "late"), 0);
	free(a);
	a = dump(o);
	sfd_offsets_close(o);
	o = open_small(f->dir);
	b = dump(o);
	assert_string_equal(a, b);
	assert_get(o, "g0", "t0", 0, 77, "late");
	free(a);
	free(b);
	sfd_offsets_close(o);
}

/* ---- crashes ------------------------------------------------------------ */

struct shm {
	uint32_t compacting; /* the child is inside sfd_offsets_compact() */
	uint32_t starts; /* compactions started, this round */
	uint32_t compactions; /* completed, all rounds */
	uint64_t ns; /* time they took, all rounds */
};

struct crash_arg {
	const char *dir;
	int round;
	int wr; /* pipe: op numbers, each after it returned */
	bool compact;
	struct shm *shm;
};

static int child_compact(struct sfd_offsets *o, struct shm *shm)
{
	uint64_t t0 = t_now_ns();
	int ret;

	__atomic_store_n(&shm->compacting, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&shm->starts, 1, __ATOMIC_SEQ_CST);
	ret = sfd_offsets_compact(o);
	__atomic_store_n(&shm->compacting, 0, __ATOMIC_SEQ_CST);
	if (ret == 1) {
		__atomic_add_fetch(&shm->ns, t_now_ns() - t0, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&shm->compactions, 1, __ATOMIC_SEQ_CST);
	}
	return ret;
}

/* The child: apply the round's operations until killed. */
static int crash_child(void *arg)
{
	struct crash_arg *a = arg;
	uint64_t rng = round_seed(a->round);
	struct sfd_offsets *o;

	if (open_small_seg(a->dir, SMALL_SEG, &o))
		return 3;
	for (uint32_t i = 1; i < 1000000; i++) {
		struct op op;

		gen_op(&rng, a->round, i, &op);
		if (store_apply(o, &op))
			return 4;
		if (write(a->wr, &i, sizeof(i)) != sizeof(i))
			return 5;
		if (a->compact && sfd_offsets_compact_needed(o) &&
		    child_compact(o, a->shm) != 1)
			return 6;
	}
	sfd_offsets_close(o);
	return 0;
}

/* The last operation number the child reported. */
static uint32_t read_acks(int fd)
{
	uint32_t last = 0, v;
	ssize_t n;

	while ((n = read(fd, &v, sizeof(v))) == sizeof(v))
		last = v;
	assert_true(n == 0);
	return last;
}

/*
 * Kill the child soon after its first, second or third compaction of the
 * round started: within twice the time one takes, so that most kills land
 * inside one, at any step, and some just after.
 * Return: whether it was inside one.
 */
static bool kill_in_compaction(pid_t pid, struct shm *shm, uint64_t *rng)
{
	uint64_t deadline = t_now_ms() + 20000u * (unsigned)t_slowdown();
	uint32_t target = 1 + (uint32_t)(t_rand(rng) % 3);
	uint64_t n = __atomic_load_n(&shm->compactions, __ATOMIC_SEQ_CST);
	uint64_t window_us = 2000;

	if (n)
		window_us += 2 * __atomic_load_n(&shm->ns, __ATOMIC_SEQ_CST) /
			     n / 1000;
	__atomic_store_n(&shm->starts, 0, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&shm->starts, __ATOMIC_SEQ_CST) < target &&
	       t_now_ms() < deadline && !t_proc_gone(pid))
		t_sleep_us(10);
	t_sleep_us(t_rand(rng) % window_us);
	kill(pid, SIGKILL);
	return __atomic_load_n(&shm->compacting, __ATOMIC_SEQ_CST);
}

/*
 * Reopen after a crash: the table must be the model after the @acked
 * operations of @round, or after one more.  The model moves on to it.
 */
static void verify_round(const char *dir, struct model *m, int round,
			 uint32_t acked)
{
	uint64_t rng = round_seed(round);
	struct model done = *m, more, got;
	struct sfd_offsets *o = open_small(dir);
	struct op op;

	for (uint32_t i = 1; i <= acked; i++) {
		gen_op(&rng, round, i, &op);
		model_apply(&done, &op);
	}
	more = done;
	gen_op(&rng, round, acked + 1, &op);
	model_apply(&more, &op);
	load_model(o, &got);
	assert_int_equal(stats(o).bad_records, 0);
	assert_int_equal(stats(o).bad_batches, 0);
	sfd_offsets_close(o);
	if (model_equal(&got, &done)) {
		*m = done;
		return;
	}
	assert_true(model_equal(&got, &more));
	*m = more;
}

/* One round: run the child, kill it, check.  Return: killed compacting. */
static bool crash_round(struct fx *f, struct model *m, int round, bool compact,
			struct shm *shm, uint64_t *rng)
{
	struct crash_arg a = { f->dir, round, -1, compact, shm };
	bool inside = false;
	int fds[2], st;
	uint32_t acked;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	a.wr = fds[1];
	pid = t_fork_clean(crash_child, &a);
	close(fds[1]);
	if (compact) {
		inside = kill_in_compaction(pid, shm, rng);
	} else {
		t_sleep_us(20000 + t_rand(rng) % 200000);
		kill(pid, SIGKILL);
	}
	acked = read_acks(fds[0]);
	close(fds[0]);
	st = t_wait_child(pid, 10000);
	assert_int_equal(st, 128 + SIGKILL);
	verify_round(f->dir, m, round, acked);
	return inside;
}

static void test_crash_commits(void **state)
{
	struct fx *f = *state;
	struct model m;
	uint64_t rng = (uint64_t)time(NULL) | 1;

	memset(&m, 0, sizeof(m));
	for (int round = 1; round <= 8; round++)
		crash_round(f, &m, round, false, NULL, &rng);
}

static void test_crash_compaction(void **state)
{
	struct fx *f = *state;
	struct shm *shm = t_shared_alloc(sizeof(*shm));
	uint64_t rng = (uint64_t)time(NULL) * 3 | 1;
	int inside = 0, rounds = 16;
	struct model m;

	memset(&m, 0, sizeof(m));
	for (int round = 1; round <= rounds; round++)
		inside += crash_round(f, &m, round, true, shm, &rng);
	printf("# %u compactions (%llu us each); %d of %d kills inside one\n",
	       shm->compactions,
	       shm->compactions ?
		       (unsigned long long)(shm->ns / shm->compactions / 1000) :
		       0ull,
	       inside, rounds);
	assert_true(shm->compactions > 0);
}

/* ---- compaction --------------------------------------------------------- */

/* Run the workload of @round on @o until compaction is due. */
static void churn_until_due(struct sfd_offsets *o, int round)
{
	uint64_t rng = round_seed(round);

	for (uint32_t i = 1; !sfd_offsets_compact_needed(o); i++) {
		struct op op;

		assert_true(i < 100000);
		gen_op(&rng, round, i, &op);
		assert_int_equal(store_apply(o, &op), 0);
	}
}

static void test_compaction(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	int64_t bases[MAX_SEGS];

	for (int round = 1; round <= 3; round++) {
		struct sfd_offsets_stats st;
		char *before, *after;

		churn_until_due(o, round);
		st = stats(o);
		before = dump(o);
		assert_int_equal(sfd_offsets_compact(o), 1);
		after = dump(o);
		assert_string_equal(before, after);
		assert_int_equal(stats(o).log_records, st.live);
		assert_true(stats(o).log_bytes < st.log_bytes);
		assert_int_equal(stats(o).compactions, 1); /* since open */
		assert_int_equal(list_bases(f->dir, bases, MAX_SEGS), 1);
		assert_int_equal(sfd_offsets_compact(o), 0); /* not due */
		free(after);

		sfd_offsets_close(o);
		o = open_small(f->dir);
		after = dump(o);
		assert_string_equal(before, after);
		assert_int_equal(stats(o).replayed_records, st.live);
		free(before);
		free(after);
	}
	sfd_offsets_close(o);
}

static void test_compaction_empty(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	int64_t bases[MAX_SEGS];

	churn_until_due(o, 5);
	for (int g = 0; g < NG; g++) {
		char name[8];

		snprintf(name, sizeof(name), "g%d", g);
		sfd_offsets_delete_group(o, name);
	}
	assert_int_equal(stats(o).live, 0);
	assert_int_equal(sfd_offsets_compact(o), 1);
	assert_int_equal(stats(o).log_records, 0);
	assert_int_equal(stats(o).log_bytes, 0);
	sfd_offsets_close(o);
	o = open_small(f->dir);
	assert_int_equal(stats(o).live, 0);
	assert_int_equal(list_bases(f->dir, bases, MAX_SEGS), 1);
	assert_int_equal(commit1(o, "g0", "t0", 0, 5, ""), 0);
	sfd_offsets_close(o);
	o = open_small(f->dir);
	assert_get(o, "g0", "t0", 0, 5, "");
	sfd_offsets_close(o);
}

/* A table larger than a segment is not compacted, and nothing changes. */
static void test_compaction_too_big(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = NULL;
	char md[200], *before, *after;

	memset(md, 'm', sizeof(md) - 1);
	md[sizeof(md) - 1] = 0;
	assert_int_equal(open_small_seg(f->dir, 2048, &o), 0);
	for (uint32_t p = 0; p < 20; p++)
		assert_int_equal(commit1(o, "g", "t", p, p, md), 0);
	for (int i = 0; !sfd_offsets_compact_needed(o); i++)
		assert_int_equal(commit1(o, "g", "t", 0, i, md), 0);
	before = dump(o);
	assert_int_equal(sfd_offsets_compact(o), -EFBIG);
	after = dump(o);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(commit1(o, "g", "t", 1, 1000, "ok"), 0);
	free(before);
	before = dump(o);
	sfd_offsets_close(o);
	assert_int_equal(open_small_seg(f->dir, 2048, &o), 0);
	after = dump(o);
	assert_string_equal(before, after);
	free(before);
	free(after);
	sfd_offsets_close(o);
}

/* Open @dir, compare with @want, close. */
static void expect_table(const char *dir, const char *want)
{
	struct sfd_offsets *o = open_small(dir);
	char *got = dump(o);

	assert_string_equal(got, want);
	assert_int_equal(stats(o).bad_records, 0);
	free(got);
	sfd_offsets_close(o);
}

/*
 * Every state a crash during compaction can leave, built from copies:
 * the old segments then a torn copy of the table (before its fdatasync),
 * and every suffix of the old segments then the whole copy (during the
 * deletion).  The history ends with a group deleted whose offsets are in
 * the oldest segments: a suffix must not bring them back.
 */
static void test_compaction_crash_points(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	int64_t pre[MAX_SEGS], post[MAX_SEGS];
	char pre_dir[400], path[400], *want;
	int npre, j;
	off_t len;

	assert_int_equal(commit1(o, "gone", "t0", 0, 1, "old"), 0);
	churn_until_due(o, 7);
	for (uint32_t i = 0; list_bases(f->dir, pre, MAX_SEGS) < 4; i++)
		assert_int_equal(commit1(o, "g1", "t1", i % 5, i, "more"), 0);
	assert_int_equal(sfd_offsets_delete_group(o, "gone"), 0);
	assert_int_equal(commit1(o, "g0", "t9", 9, 99, "after"), 0);
	want = dump(o);
	assert_null(strstr(want, "gone"));
	sfd_offsets_close(o);

	make_dir(pre_dir, sizeof(pre_dir), f->root, "pre");
	npre = list_bases(f->dir, pre, MAX_SEGS);
	assert_true(npre >= 3);
	for (j = 0; j < npre; j++)
		copy_seg(f->dir, pre_dir, pre[j], -1);

	o = open_small(f->dir);
	assert_int_equal(sfd_offsets_compact(o), 1);
	sfd_offsets_close(o);
	assert_int_equal(list_bases(f->dir, post, MAX_SEGS), 1);
	assert_true(post[0] > pre[npre - 1]);
	t_seg_path(path, sizeof(path), f->dir, post[0], ".log");
	len = file_size(path);

	/* During the deletion: a suffix of the old segments, whole copy. */
	for (j = 0; j <= npre; j++) {
		char d[400], name[32];

		snprintf(name, sizeof(name), "suffix-%d", j);
		make_dir(d, sizeof(d), f->root, name);
		for (int k = j; k < npre; k++)
			copy_seg(pre_dir, d, pre[k], -1);
		copy_seg(f->dir, d, post[0], -1);
		expect_table(d, want);
		t_rm_rf(d);
	}
	/* Before the copy was durable: every old segment, a torn copy. */
	for (off_t cut = 0; cut < len; cut += 1 + cut / 3 + (cut % 7)) {
		char d[400], name[32];

		snprintf(name, sizeof(name), "torn-%lld", (long long)cut);
		make_dir(d, sizeof(d), f->root, name);
		for (int k = 0; k < npre; k++)
			copy_seg(pre_dir, d, pre[k], -1);
		copy_seg(f->dir, d, post[0], cut);
		expect_table(d, want);
		t_rm_rf(d);
	}
	free(want);
}

/* ---- damage ------------------------------------------------------------- */

static int64_t active_base(const char *dir)
{
	int64_t bases[MAX_SEGS];
	int n = list_bases(dir, bases, MAX_SEGS);

	assert_true(n > 0);
	return bases[n - 1];
}

static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	char path[400];
	uint8_t junk[100];

	assert_int_equal(commit1(o, "keep", "t", 0, 5, "k"), 0);
	for (int i = 1; i <= 10; i++)
		assert_int_equal(commit1(o, "g", "t", 0, i, "v"), 0);
	sfd_offsets_close(o);

	/* The last batch loses its tail: as if its write never finished. */
	t_seg_path(path, sizeof(path), f->dir, active_base(f->dir), ".log");
	assert_int_equal(truncate(path, file_size(path) - 3), 0);
	o = open_small(f->dir);
	assert_true(sfd_offsets_recovery_info(o)->bytes_truncated > 0);
	assert_get(o, "g", "t", 0, 9, "v");
	assert_get(o, "keep", "t", 0, 5, "k");
	assert_int_equal(commit1(o, "g", "t", 0, 11, "w"), 0);
	sfd_offsets_close(o);

	/* Garbage after the last batch is cut as well. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	t_file_append(path, junk, sizeof(junk));
	o = open_small(f->dir);
	assert_true(sfd_offsets_recovery_info(o)->bytes_truncated >=
		    sizeof(junk));
	assert_get(o, "g", "t", 0, 11, "w");
	assert_int_equal(stats(o).bad_batches, 0);
	sfd_offsets_close(o);
}

/* A bad CRC in an old segment (recovery does not check those): skipped. */
static void test_bad_crc_old_segment(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	int64_t bases[MAX_SEGS];
	char md[1001], path[400];

	memset(md, 'q', sizeof(md) - 1);
	md[sizeof(md) - 1] = 0;
	for (uint32_t i = 0; i < 40; i++)
		assert_int_equal(commit1(o, "g", "t", i, i, md), 0);
	sfd_offsets_close(o);
	assert_true(list_bases(f->dir, bases, MAX_SEGS) >= 2);

	t_seg_path(path, sizeof(path), f->dir, bases[0], ".log");
	t_file_flip(path, SF_RB_HEADER_SIZE + 30); /* in the first record */
	o = open_small(f->dir);
	assert_int_equal(stats(o).bad_batches, 1);
	assert_absent(o, "g", "t", 0);
	for (uint32_t i = 1; i < 40; i++)
		assert_get(o, "g", "t", i, i, md);
	sfd_offsets_close(o);
}

/* A bad batch header in an old segment: the rest of it is skipped. */
static void test_bad_header_old_segment(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets *o = open_small(f->dir);
	int64_t bases[MAX_SEGS];
	char md[1001], path[400];
	off_t second;

	memset(md, 'q', sizeof(md) - 1);
	md[sizeof(md) - 1] = 0;
	for (uint32_t i = 0; i < 40; i++)
		assert_int_equal(commit1(o, "g", "t", i, i, md), 0);
	second = (off_t)(stats(o).log_bytes / 40); /* batches are alike */
	sfd_offsets_close(o);
	assert_true(list_bases(f->dir, bases, MAX_SEGS) >= 3);
	assert_true(bases[1] >= 3);

	t_seg_path(path, sizeof(path), f->dir, bases[0], ".log");
	t_file_flip(path, second + SF_RB_OFF_MAGIC);
	o = open_small(f->dir);
	assert_int_equal(stats(o).bad_batches, 1);
	assert_get(o, "g", "t", 0, 0, md);
	for (uint32_t i = 1; i < (uint32_t)bases[1]; i++)
		assert_absent(o, "g", "t", i);
	for (uint32_t i = (uint32_t)bases[1]; i < 40; i++)
		assert_get(o, "g", "t", i, i, md);
	sfd_offsets_close(o);
}

/* ---- records from other writers ----------------------------------------- */

/* A test-side encoder, written from the Kafka schemas independently. */
struct enc {
	uint8_t b[512];
	size_t n;
};

static struct enc *e16(struct enc *e, int v)
{
	sf_put_be16(e->b + e->n, (uint16_t)v);
	e->n += 2;
	return e;
}

static struct enc *e32(struct enc *e, int64_t v)
{
	sf_put_be32(e->b + e->n, (uint32_t)v);
	e->n += 4;
	return e;
}

static struct enc *e64(struct enc *e, int64_t v)
{
	sf_put_be64(e->b + e->n, (uint64_t)v);
	e->n += 8;
	return e;
}

static struct enc *estr(struct enc *e, const char *s, size_t len)
{
	e16(e, (int)len);
	memcpy(e->b + e->n, s, len);
	e->n += len;
	return e;
}

static struct enc *ekey(struct enc *e, int ver, const char *g, const char *t,
			int32_t p)
{
	e->n = 0;
	e16(e, ver);
	estr(e, g, strlen(g));
	estr(e, t, strlen(t));
	return e32(e, p);
}

static void add_kv(struct sf_rb_builder *b, const struct enc *k,
		   const struct enc *v)
{
	struct sf_rb_msg m = {
		.timestamp = 1000,
		.key = { k ? k->b : NULL, k ? (int32_t)k->n : SF_RB_NULL },
		.value = { v ? v->b : NULL, v ? (int32_t)v->n : SF_RB_NULL },
	};

	assert_int_equal(sf_rb_builder_add(b, &m), 0);
}

static void append_built(struct sfd_log *log, struct sf_rb_builder *b)
{
	const uint8_t *batch;
	size_t len;
	int64_t base;

	assert_int_equal(sf_rb_builder_finish(b, &batch, &len), 0);
	assert_int_equal(sfd_log_append(log, batch, len, &base), 0);
	sf_rb_builder_release(b);
}

/* The good records: every value version Kafka has written. */
static void add_good(struct sf_rb_builder *b)
{
	struct enc k, v;

	v.n = 0; /* v3: offset, leader epoch, metadata, commit time */
	estr(e32(e64(e16(&v, 3), 10), 5), "x", 1);
	add_kv(b, ekey(&k, 1, "ga", "t", 0), e64(&v, 111));
	v.n = 0; /* v0 under a v0 key: offset, metadata, timestamp */
	add_kv(b, ekey(&k, 0, "ga", "t", 1),
	       e64(estr(e64(e16(&v, 0), 11), "y", 1), 222));
	v.n = 0; /* v1: offset, metadata, commit time, expire time */
	add_kv(b, ekey(&k, 1, "ga", "t", 2),
	       e64(e64(estr(e64(e16(&v, 1), 12), "", 0), 333), 444));
	v.n = 0; /* v2: offset, metadata, commit time */
	add_kv(b, ekey(&k, 1, "ga", "t", 3),
	       e64(estr(e64(e16(&v, 2), 13), "z", 1), 555));
	add_kv(b, ekey(&k, 1, "ga", "t", 4), &v);
	add_kv(b, ekey(&k, 1, "ga", "t", 4), NULL); /* then deleted */
	k.n = 0; /* a group metadata key: well-formed, not ours */
	add_kv(b, estr(e16(&k, 2), "ga", 2), &v);
}

/* Keys and values that do not parse; @n is set to their number. */
static void add_bad(struct sf_rb_builder *b, int *n)
{
	struct enc k, v, good;

	good.n = 0;
	e64(estr(e32(e64(e16(&good, 3), 1), -1), "", 0), 0);
	add_kv(b, ekey(&k, 9, "ga", "t", 7), &good); /* unknown version */
	ekey(&k, 1, "ga", "t", 7);
	k.n = 6; /* cut after the group name */
	add_kv(b, &k, &good);
	add_kv(b, e16(ekey(&k, 1, "ga", "t", 7), 0), &good); /* trailing */
	k.n = 0;
	add_kv(b, e32(e16(e16(e16(&k, 1), -1), 0), 7), &good); /* length -1 */
	add_kv(b, NULL, &good); /* null key */
	k.n = 0;
	add_kv(b, e32(estr(estr(e16(&k, 1), "g\0a", 3), "t", 1), 7), &good);
	add_kv(b, ekey(&k, 1, "ga", "t", -7), &good); /* negative partition */
	v.n = 0;
	add_kv(b, ekey(&k, 1, "ga", "t", 7), e64(e16(&v, 7), 1)); /* v7 */
	v = good;
	v.n -= 1; /* value cut short */
	add_kv(b, ekey(&k, 1, "ga", "t", 7), &v);
	v = good;
	add_kv(b, ekey(&k, 1, "ga", "t", 7), e16(&v, 0)); /* trailing */
	*n = 10;
}

static void test_foreign_records(void **state)
{
	struct fx *f = *state;
	struct sf_rb_builder b;
	struct sfd_log *log;
	struct sfd_offsets *o;
	int nbad;

	assert_int_equal(sfd_log_open(f->dir, NULL, &log), 0);
	assert_int_equal(sf_rb_builder_init_alloc(&b, 0), 0);
	add_good(&b);
	add_bad(&b, &nbad);
	append_built(log, &b);
	/* A control batch (a transaction marker): ignored. */
	assert_int_equal(sf_rb_builder_init_alloc(&b, 0), 0);
	assert_int_equal(sf_rb_builder_set_attributes(
				 &b,
				 SF_RB_ATTR_CONTROL | SF_RB_ATTR_TRANSACTIONAL),
			 0);
	add_good(&b);
	append_built(log, &b);
	/* A batch larger than the store's own: the reader grows. */
	assert_int_equal(sf_rb_builder_init_alloc(&b, 0), 0);
	for (int i = 0; i < 6000; i++) {
		struct enc k, v;

		v.n = 0;
		estr(e32(e64(e16(&v, 3), 1000 + i), -1), "big", 3);
		add_kv(&b, ekey(&k, 1, "gb", "t", i), e64(&v, 0));
	}
	append_built(log, &b);
	assert_int_equal(sfd_log_close(log), 0);

	o = open_small(f->dir);
	assert_get(o, "gb", "t", 0, 1000, "big");
	assert_get(o, "gb", "t", 5999, 6999, "big");
	assert_get(o, "ga", "t", 0, 10, "x");
	assert_get(o, "ga", "t", 1, 11, "y");
	assert_get(o, "ga", "t", 2, 12, "");
	assert_get(o, "ga", "t", 3, 13, "z");
	assert_absent(o, "ga", "t", 4);
	assert_absent(o, "ga", "t", 7);
	assert_int_equal(stats(o).bad_records, nbad);
	assert_int_equal(stats(o).ignored_records, 1 + 7);
	assert_int_equal(stats(o).bad_batches, 0);
	assert_int_equal(stats(o).live, 4 + 6000);
	/* What other writers left survives our own commits and reopening. */
	assert_int_equal(commit1(o, "ga", "t", 5, 50, "ours"), 0);
	sfd_offsets_close(o);
	o = open_small(f->dir);
	assert_get(o, "ga", "t", 3, 13, "z");
	assert_get(o, "ga", "t", 5, 50, "ours");
	sfd_offsets_close(o);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	struct sfd_offsets_config c;
	struct sfd_offsets *o = NULL;

	sfd_offsets_config_init(&c);
	c.max_batch_bytes = 1024; /* cannot hold the largest record */
	assert_int_equal(sfd_offsets_open_config(f->dir, &c, &o), -EINVAL);
	sfd_offsets_config_init(&c);
	c.compact_ratio = 0;
	assert_int_equal(sfd_offsets_open_config(f->dir, &c, &o), -EINVAL);
	sfd_offsets_config_init(&c);
	c.segment_bytes = 100; /* below the log's minimum */
	assert_int_equal(sfd_offsets_open_config(f->dir, &c, &o), -EINVAL);
	c.size = 0;
	assert_int_equal(sfd_offsets_open_config(f->dir, &c, &o), -EINVAL);
	assert_null(o);
	assert_int_equal(sfd_offsets_open(f->dir, &o), 0);
	assert_int_equal(commit1(o, "g", "t", 0, 1, NULL), 0);
	sfd_offsets_close(o);
	sfd_offsets_close(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_roundtrip),
		T(test_bad_arguments),
		T(test_kafka_format),
		T(test_many_groups),
		T(test_tombstones),
		T(test_reopen),
		T(test_crash_commits),
		T(test_compaction),
		T(test_compaction_empty),
		T(test_compaction_too_big),
		T(test_compaction_crash_points),
		T(test_crash_compaction),
		T(test_torn_tail),
		T(test_bad_crc_old_segment),
		T(test_bad_header_old_segment),
		T(test_foreign_records),
		T(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
