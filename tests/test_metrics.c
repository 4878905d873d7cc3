// SPDX-License-Identifier: MIT
/*
 * test_metrics.c - sfshmd's eBPF metrics (daemon/metrics.c, bpf/sfm.bpf.c)
 * against a real daemon, read the way an operator reads them: through
 * `bpftool map dump pinned /sys/fs/bpf/sfshm/<instance>/... -j`.
 *
 * Every test starts its own build/sfshmd (t_daemon.h) with metrics on and
 * an instance name of its own (t-metrics-<pid>-<n>), moves records with
 * the real tools (sfcat, sfctl) and compares the pinned counters with what
 * was sent, what the consumers printed and what `sfctl topic describe
 * --json` says, to the record and to the byte.  Topic names carry the
 * test's pid: the probes count every process running an attached binary,
 * whichever daemon it talks to, so names shared with a test running next
 * to this one would mix.  The teardown stops the daemon (a clean exit is
 * part of the test) and removes the instance directory, which detaches the
 * probes the daemon left pinned; it does so after a failure too.  The
 * program runs in a mount namespace of its own with a fresh bpffs on
 * /sys/fs/bpf (see private_bpffs()), so that nothing it pins outlives it
 * or meets another daemon's pins.
 *
 *   exact_totals   three topics (1, 3 and 4 partitions; without keys,
 *                  with keys, acks=durable): records and bytes in and out
 *                  per partition, batches, log end offsets, the persist,
 *                  fsync and sampled end-to-end histograms.
 *   restart        SIGTERM leaves the maps and links pinned; the next
 *                  daemon of the instance says it reuses them and the
 *                  counters go on from where they were, counted once.
 *   no_bpf         --no-bpf: records move, nothing is pinned.
 *   unprivileged   the daemon as nobody (65534) with metrics on by
 *                  default: it runs, clients of the same user move
 *                  records, one "metrics off" line says why, nothing is
 *                  pinned and /sys/fs/bpf/sfshm is not left to nobody.
 *   delete         deleting a topic drops its counters and histograms: the
 *                  topic created again under the name starts from zero.
 *   two_instances  two daemons at once (run dirs and instances A and B),
 *                  attached to the same sfshmd and sfcat, each with a topic
 *                  of the same name: producers and consumers of both run
 *                  side by side, and each instance counts exactly its own
 *                  records and bytes, has no entry the other caused, and
 *                  its procs map holds its daemon and live clients alone
 *                  (none of the other's, none gone).
 *
 * Needs root and a kernel with BTF (/sys/kernel/btf/vmlinux), as CI has;
 * otherwise (or without bpftool) the program says why and exits 77, which
 * run-tests.sh reports as a skip, and under CI as a failure unless
 * SFSHM_ALLOW_SKIP names test_metrics.
 * TEST_METRICS_ONLY=substring runs the matching tests only.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "sfm.h"
#include "t_daemon.h"
#include "t_proc.h"
#include "t_util.h"

#define WAIT_MS 20000 /* a condition must hold within this (scaled) */
#define TOOL_MS 60000 /* deadline of one tool run (scaled) */
#define NOBODY 65534
#define MAX_PARTS 8
#define LAT_MAX_NS (600ull * 1000000000ull) /* no latency here is longer */

static char g_bpftool[PATH_MAX];

/* ---- running a program ------------------------------------------------- */

/* The deadline of a tool run (t_proc.h) started now. */
static uint64_t tool_deadline(void)
{
	return T_DEADLINE((uint64_t)TOOL_MS * t_slowdown());
}

/* ---- a small JSON reader ------------------------------------------------ */

/*
 * Enough JSON for bpftool's and sfctl's output: objects, arrays, strings
 * (\uXXXX outside ASCII becomes '?'), integers, true/false/null.  A
 * number with a fraction or exponent keeps its integer part.
 */
enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype type;
	char *name; /* the member's name, inside an object */
	char *str; /* J_STR */
	uint64_t num; /* J_NUM (two's complement if negative), J_BOOL */
	struct jv *kid; /* J_ARR elements, J_OBJ members */
	size_t nkid;
};

struct jparse {
	const char *p;
	const char *err; /* the first error, NULL if none */
};

static bool j_value(struct jparse *jp, struct jv *v, int depth);

static void j_ws(struct jparse *jp)
{
	while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' ||
	       *jp->p == '\r')
		jp->p++;
}

static bool j_fail(struct jparse *jp, const char *why)
{
	if (!jp->err)
		jp->err = why;
	return false;
}

static unsigned j_hex4(const char *s)
{
	char h[5] = { 0 };

	memcpy(h, s, 4);
	return (unsigned)strtoul(h, NULL, 16);
}

/* A string at jp->p (on its opening quote) into a malloc()ed copy. */
static char *j_string(struct jparse *jp)
{
	struct t_buf b = { 0 };

	t_buf_add(&b, "", 0);
	for (jp->p++; *jp->p && *jp->p != '"'; jp->p++) {
		char c = *jp->p;

		if (c == '\\') {
			c = *++jp->p;
			if (c == 'u' && jp->p[1] && jp->p[2] && jp->p[3] &&
			    jp->p[4]) {
				unsigned u = j_hex4(jp->p + 1);

				c = u < 0x80 ? (char)u : '?';
				jp->p += 4;
			} else if (c == 'n' || c == 't' || c == 'r' ||
				   c == 'b' || c == 'f') {
				c = c == 'n' ? '\n' : c == 't' ? '\t' : ' ';
			} else if (!c) {
				break;
			}
		}
		t_buf_add(&b, &c, 1);
	}
	if (*jp->p != '"') {
		free(b.p);
		j_fail(jp, "unterminated string");
		return NULL;
	}
	jp->p++;
	return b.p;
}

static bool j_number(struct jparse *jp, struct jv *v)
{
	char *end;

	v->type = J_NUM;
	errno = 0;
	if (*jp->p == '-')
		v->num = (uint64_t)strtoll(jp->p, &end, 10);
	else
		v->num = strtoull(jp->p, &end, 10);
	if (end == jp->p || errno)
		return j_fail(jp, "bad number");
	jp->p = end;
	while (strchr("0123456789.eE+-", *jp->p) && *jp->p)
		jp->p++;
	return true;
}

static bool j_word(struct jparse *jp, struct jv *v, const char *w, enum jtype t,
		   uint64_t num)
{
	size_t n = strlen(w);

	if (strncmp(jp->p, w, n))
		return j_fail(jp, "unexpected character");
	jp->p += n;
	v->type = t;
	v->num = num;
	return true;
}

static struct jv *j_push(struct jv *v)
{
	struct jv *k = realloc(v->kid, (v->nkid + 1) * sizeof(*k));

	assert_non_null(k);
	v->kid = k;
	memset(&k[v->nkid], 0, sizeof(*k));
	return &k[v->nkid++];
}

/* The elements of an array or the members of an object. */
static bool j_items(struct jparse *jp, struct jv *v, int depth)
{
	char close = v->type == J_ARR ? ']' : '}';

	jp->p++;
	j_ws(jp);
	if (*jp->p == close) {
		jp->p++;
		return true;
	}
	for (;;) {
		struct jv *k = j_push(v);

		j_ws(jp);
		if (v->type == J_OBJ) {
			if (*jp->p != '"')
				return j_fail(jp, "member without a name");
			k->name = j_string(jp);
			j_ws(jp);
			if (!k->name || *jp->p++ != ':')
				return j_fail(jp, "member without ':'");
		}
		if (!j_value(jp, k, depth + 1))
			return false;
		j_ws(jp);
		if (*jp->p == close) {
			jp->p++;
			return true;
		}
		if (*jp->p++ != ',')
			return j_fail(jp, "expected ',' or the end");
	}
}

static bool j_value(struct jparse *jp, struct jv *v, int depth)
{
	if (depth > 32)
		return j_fail(jp, "nested too deep");
	j_ws(jp);
	switch (*jp->p) {
	case '{':
		v->type = J_OBJ;
		return j_items(jp, v, depth);
	case '[':
		v->type = J_ARR;
		return j_items(jp, v, depth);
	case '"':
		v->type = J_STR;
		v->str = j_string(jp);
		return v->str != NULL;
	case 't':
		return j_word(jp, v, "true", J_BOOL, 1);
	case 'f':
		return j_word(jp, v, "false", J_BOOL, 0);
	case 'n':
		return j_word(jp, v, "null", J_NULL, 0);
	default:
		return j_number(jp, v);
	}
}

static void j_free(struct jv *v)
{
	for (size_t i = 0; v && i < v->nkid; i++)
		j_free(&v->kid[i]);
	if (v) {
		free(v->kid);
		free(v->name);
		free(v->str);
		memset(v, 0, sizeof(*v));
	}
}

/* Parse the document @text into @v, or fail the test naming @what. */
static void j_parse(const char *text, struct jv *v, const char *what)
{
	struct jparse jp = { .p = text };

	memset(v, 0, sizeof(*v));
	if (!j_value(&jp, v, 0) || (j_ws(&jp), *jp.p)) {
		size_t at = (size_t)(jp.p - text);

		fail_msg("%s: not JSON (%s at byte %zu): %.300s", what,
			 jp.err ? jp.err : "trailing text", at, text);
	}
}

/* The member @name of object @v, NULL if none (or @v is no object). */
static const struct jv *j_get(const struct jv *v, const char *name)
{
	for (size_t i = 0; v && v->type == J_OBJ && i < v->nkid; i++)
		if (!strcmp(v->kid[i].name, name))
			return &v->kid[i];
	return NULL;
}

/* The number member @name of @v, or fail naming @what. */
static uint64_t j_num(const struct jv *v, const char *name, const char *what)
{
	const struct jv *m = j_get(v, name);

	if (!m || m->type != J_NUM)
		fail_msg("%s: no number \"%s\"", what, name);
	return m->num;
}

/* ---- reading the pinned maps through bpftool -------------------------- */

/*
 * bpftool -j prints each entry's key and value as arrays of hex bytes
 * ("0x2a"), and, where the map has BTF, the same as named fields under
 * "formatted"; without the raw arrays the named fields may stand as "key"
 * and "value" themselves.  Named fields are read where there are any (a
 * char array as a string, or as an array of numbers), the raw bytes (laid
 * out as sfm.h says) otherwise.
 */
static void raw_bytes(const struct jv *a, void *out, size_t len,
		      const char *what)
{
	uint8_t *o = out;

	if (a->nkid != len)
		fail_msg("%s: %zu bytes, sfm.h says %zu", what, a->nkid, len);
	for (size_t i = 0; i < len; i++) {
		const struct jv *b = &a->kid[i];

		if (b->type == J_STR)
			o[i] = (uint8_t)strtoul(b->str, NULL, 16);
		else if (b->type == J_NUM)
			o[i] = (uint8_t)b->num;
		else
			fail_msg("%s: byte %zu is no number", what, i);
	}
}

static bool is_raw(const struct jv *v)
{
	return v && v->type == J_ARR;
}

/*
 * The topic name (a string or an array of chars) and the partition of a
 * formatted key.
 */
static void fmt_tp(const struct jv *key, char *topic, uint32_t *partition,
		   const char *what)
{
	const struct jv *t = j_get(key, "topic");

	memset(topic, 0, SFM_TOPIC_LEN);
	if (t && t->type == J_STR)
		snprintf(topic, SFM_TOPIC_LEN, "%s", t->str);
	else if (!t || t->type != J_ARR)
		fail_msg("%s: no topic in the key", what);
	for (size_t i = 0;
	     t->type == J_ARR && i < t->nkid && i < SFM_TOPIC_LEN - 1; i++) {
		const struct jv *c = &t->kid[i];

		if (c->type == J_STR && strlen(c->str) == 1)
			topic[i] = c->str[0];
		else if (c->type == J_STR)
			topic[i] = (char)strtoul(c->str, NULL, 0);
		else
			topic[i] = (char)c->num;
	}
	*partition = (uint32_t)j_num(key, "partition", what);
}

/* The key and value of entry @e: "formatted" ones if there are. */
static void entry_kv(const struct jv *e, const struct jv **k,
		     const struct jv **v, const char *what)
{
	const struct jv *f = j_get(e, "formatted");

	*k = j_get(f ? f : e, "key");
	*v = j_get(f ? f : e, "value");
	if (!*k || !*v) {
		/* Per-CPU maps print "values"; ours are plain hashes. */
		fail_msg("%s: an entry without key and value", what);
	}
}

/*
 * Entry @e of map @what: where it is raw bytes, its key and value into
 * @key and @val (@klen and @vlen bytes) and return true; otherwise point
 * *@k and *@v at its named fields and return false.
 */
static bool raw_entry(const struct jv *e, void *key, size_t klen, void *val,
		      size_t vlen, const struct jv **k, const struct jv **v,
		      const char *what)
{
	entry_kv(e, k, v, what);
	if (!is_raw(*k))
		return false;
	raw_bytes(*k, key, klen, what);
	raw_bytes(*v, val, vlen, what);
	return true;
}

struct field {
	const char *name;
	size_t off;
};

#define SF(n)                                     \
	{                                         \
#n, offsetof(struct sfm_stats, n) \
	}
static const struct field stats_fields[] = {
	SF(records_in),	 SF(bytes_in),	SF(batches_in), SF(log_bytes),
	SF(records_out), SF(bytes_out), SF(polls_out),	SF(fsyncs),
	SF(errors),	 SF(bp_waits),	SF(bp_wait_ns), SF(futex_waits),
	SF(futex_wakes),
};
#undef SF

#define NSTATS (sizeof(stats_fields) / sizeof(stats_fields[0]))

/* Counter @j (of stats_fields[]) of @v. */
static uint64_t stat_field(const struct sfm_stats *v, size_t j)
{
	uint64_t n;

	memcpy(&n, (const char *)v + stats_fields[j].off, sizeof(n));
	return n;
}

_Static_assert(NSTATS * sizeof(uint64_t) == sizeof(struct sfm_stats),
	       "every counter of struct sfm_stats is read");

/* One entry of topic_stats and one of topic_latency. */
struct st_ent {
	struct sfm_tp k;
	struct sfm_stats v;
};

struct h_ent {
	struct sfm_hist_key k;
	struct sfm_hist v;
};

/* Entry @e of topic_stats into @ent (a struct st_ent, zeroed). */
static void stats_entry(const struct jv *e, void *ent)
{
	struct st_ent *out = ent;
	const struct jv *k, *v;
	const char *what = "topic_stats";

	if (raw_entry(e, &out->k, sizeof(out->k), &out->v, sizeof(out->v), &k,
		      &v, what))
		return;
	fmt_tp(k, out->k.topic, &out->k.partition, what);
	for (size_t i = 0; i < NSTATS; i++) {
		uint64_t n = j_num(v, stats_fields[i].name, what);

		memcpy((char *)&out->v + stats_fields[i].off, &n, sizeof(n));
	}
}

/* The kind of a formatted key: a number, or the enum's name. */
static enum sfm_hist_kind hist_kind(const struct jv *key, const char *what)
{
	static const char *const names[] = { "SFM_HIST_E2E", "SFM_HIST_PERSIST",
					     "SFM_HIST_FSYNC" };
	const struct jv *k = j_get(key, "kind");

	if (k && k->type == J_NUM)
		return (enum sfm_hist_kind)k->num;
	for (int i = 0; k && k->type == J_STR && i < SFM_HIST_KINDS; i++)
		if (!strcmp(k->str, names[i]))
			return (enum sfm_hist_kind)i;
	fail_msg("%s: no kind in the key, or an unknown one", what);
	return SFM_HIST_KINDS;
}

/* Entry @e of topic_latency into @ent (a struct h_ent, zeroed). */
static void hist_entry(const struct jv *e, void *ent)
{
	struct h_ent *out = ent;
	const struct jv *k, *v, *slots;
	const char *what = "topic_latency";

	if (raw_entry(e, &out->k, sizeof(out->k), &out->v, sizeof(out->v), &k,
		      &v, what))
		return;
	fmt_tp(k, out->k.topic, &out->k.partition, what);
	out->k.kind = hist_kind(k, what);
	out->v.count = j_num(v, "count", what);
	out->v.sum_ns = j_num(v, "sum_ns", what);
	out->v.max_ns = j_num(v, "max_ns", what);
	slots = j_get(v, "slot");
	if (!slots || slots->type != J_ARR || slots->nkid != SFM_HIST_SLOTS)
		fail_msg("%s: no slot[%d]", what, SFM_HIST_SLOTS);
	for (size_t i = 0; i < SFM_HIST_SLOTS; i++)
		out->v.slot[i] = slots->kid[i].num;
}

/* A snapshot of both maps of an instance. */
struct snap {
	struct st_ent *st;
	size_t nst;
	struct h_ent *h;
	size_t nh;
};

/* `bpftool map dump pinned @dir/@map -j`, parsed into @doc. */
static void dump_map(const char *dir, const char *map, struct jv *doc)
{
	char path[256], what[300];
	struct t_res r;

	snprintf(path, sizeof(path), "%s/%s", dir, map);
	t_run(&r, TOOL_MS, 0, NULL, 0,
	      T_ARGS(g_bpftool, "map", "dump", "pinned", path, "-j"));
	snprintf(what, sizeof(what), "bpftool map dump pinned %s -j", path);
	t_res_check(&r, 0, what);
	j_parse(r.out, doc, what);
	if (doc->type != J_ARR)
		fail_msg("%s: not an array: %.300s", what, r.out);
	t_res_free(&r);
}

/*
 * The entries of @map (in @dir), each read by @read into its element,
 * zeroed, of an array of @size bytes an element (calloc()ed; one more at
 * the end).
 * Return: the array; the number of entries into *@n.
 */
static void *read_map(const char *dir, const char *map, size_t size,
		      void (*read)(const struct jv *e, void *ent), size_t *n)
{
	struct jv doc;
	char *ents;

	dump_map(dir, map, &doc);
	*n = doc.nkid;
	ents = calloc(doc.nkid + 1, size);
	assert_non_null(ents);
	for (size_t i = 0; i < doc.nkid; i++)
		read(&doc.kid[i], ents + i * size);
	j_free(&doc);
	return ents;
}

static void snap_take(const char *dir, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->st = read_map(dir, SFM_MAP_STATS, sizeof(*s->st), stats_entry,
			 &s->nst);
	s->h = read_map(dir, SFM_MAP_HIST, sizeof(*s->h), hist_entry, &s->nh);
}

static void snap_free(struct snap *s)
{
	free(s->st);
	free(s->h);
	memset(s, 0, sizeof(*s));
}

/* The counters of @topic's partition @p, NULL if there is no entry. */
static const struct sfm_stats *snap_stats(const struct snap *s,
					  const char *topic, uint32_t p)
{
	for (size_t i = 0; i < s->nst; i++)
		if (s->st[i].k.partition == p &&
		    !strncmp(s->st[i].k.topic, topic, SFM_TOPIC_LEN))
			return &s->st[i].v;
	return NULL;
}

static const struct sfm_hist *snap_hist(const struct snap *s, const char *topic,
					uint32_t p, uint32_t kind)
{
	for (size_t i = 0; i < s->nh; i++)
		if (s->h[i].k.partition == p && s->h[i].k.kind == kind &&
		    !strncmp(s->h[i].k.topic, topic, SFM_TOPIC_LEN))
			return &s->h[i].v;
	return NULL;
}

/* Entries of @topic in both maps. */
static size_t snap_count_topic(const struct snap *s, const char *topic)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nst; i++)
		n += !strncmp(s->st[i].k.topic, topic, SFM_TOPIC_LEN);
	for (size_t i = 0; i < s->nh; i++)
		n += !strncmp(s->h[i].k.topic, topic, SFM_TOPIC_LEN);
	return n;
}

/*
 * The process each entry of @map (in @dir) is about, into @pids[] (at
 * most @max): the key of procs, the tgid of a ring_addrs key (the key's
 * first four bytes either way).  Return: how many.
 */
static size_t map_tgids(const char *dir, const char *map, uint32_t *pids,
			size_t max)
{
	struct jv doc;
	size_t n;

	dump_map(dir, map, &doc);
	n = doc.nkid;
	if (n > max)
		fail_msg("%s/%s: %zu entries, more than this test reads", dir,
			 map, n);
	for (size_t i = 0; i < n; i++) {
		const struct jv *k, *v;

		entry_kv(&doc.kid[i], &k, &v, map);
		if (is_raw(k)) {
			struct jv head = *k; /* the first four bytes */

			if (head.nkid < sizeof(pids[i]))
				fail_msg("%s: a key of %zu bytes", map,
					 head.nkid);
			head.nkid = sizeof(pids[i]);
			raw_bytes(&head, &pids[i], sizeof(pids[i]), map);
		} else if (k->type == J_NUM) {
			pids[i] = (uint32_t)k->num;
		} else {
			pids[i] = (uint32_t)j_num(k, "tgid", map);
		}
	}
	j_free(&doc);
	return n;
}

/* ---- fixture: one daemon with metrics per test -------------------------- */

struct fx {
	struct t_daemon d;
	char inst[64]; /* metrics.instance */
	char pins[160]; /* SFM_BPFFS_ROOT/<inst> */
	bool passed; /* set at the end of the test: no log dump needed */
};

static unsigned g_ninst;

/* A daemon with metrics on and an instance of its own, not started. */
static int fx_init(struct fx *f)
{
	if (t_daemon_init(&f->d, "metrics")) {
		fprintf(stderr, "fixture: cannot make the test dirs: %s\n",
			strerror(errno));
		return -1;
	}
	snprintf(f->inst, sizeof(f->inst), "t-metrics-%d-%u", (int)getpid(),
		 ++g_ninst);
	snprintf(f->pins, sizeof(f->pins), "%s/%s", SFM_BPFFS_ROOT, f->inst);
	f->d.bpf = true;
	f->d.extra[0] = "--instance";
	f->d.extra[1] = f->inst;
	f->d.extra[2] = "--log-level=info";
	return 0;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || fx_init(f)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/*
 * Stop @f's daemon (a clean exit on SIGTERM, or the test fails), print
 * its log unless the test passed, remove its pins and its dirs.
 * Return: 0 or -1.
 */
static int fx_fini(struct fx *f)
{
	int rc = 0;

	if (t_daemon_end(&f->d)) {
		f->passed = false;
		rc = -1;
	}
	if (!f->passed)
		t_daemon_print_log(&f->d);
	/* Unpinning the links detaches the probes from every binary. */
	if (t_path_exists("%s", f->pins) && t_rm_rf(f->pins)) {
		fprintf(stderr, "cannot remove %s: %s\n", f->pins,
			strerror(errno));
		rc = -1;
	}
	t_daemon_cleanup(&f->d);
	return rc;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	int rc = fx_fini(f);

	free(f);
	return rc;
}

#define MAX_KIDS 8 /* children run at once (t_procs_finish()) */

/*
 * Two daemons at once, each with its run dir and instance, and the
 * children a test runs against them (killed here if a failure left them
 * running).
 */
struct fx2 {
	struct fx a, b;
	struct t_proc kids[MAX_KIDS];
};

static int fx2_setup(void **state)
{
	struct fx2 *p = calloc(1, sizeof(*p));

	if (!p || fx_init(&p->a)) {
		free(p);
		return -1;
	}
	if (fx_init(&p->b)) {
		p->a.passed = true; /* nothing ran: no log to show */
		fx_fini(&p->a);
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

static int fx2_teardown(void **state)
{
	struct fx2 *p = *state;
	int rc;

	for (int i = 0; i < MAX_KIDS; i++)
		t_proc_kill(&p->kids[i]);
	if (!p->a.passed)
		fprintf(stderr, "daemon A (instance %s):\n", p->a.inst);
	rc = fx_fini(&p->a);
	if (!p->b.passed)
		fprintf(stderr, "daemon B (instance %s):\n", p->b.inst);
	if (fx_fini(&p->b))
		rc = -1;
	free(p);
	return rc;
}

static void start(struct fx *f)
{
	if (t_daemon_start(&f->d))
		fail_msg("sfshmd did not start");
}

/* Lines of the daemon's log holding @s; the last one into @line. */
static int log_count(const struct fx *f, const char *s, char *line, size_t len)
{
	char buf[2048];
	FILE *fp = fopen(f->d.log_path, "r");
	int n = 0;

	while (fp && fgets(buf, sizeof(buf), fp)) {
		if (!strstr(buf, s))
			continue;
		n++;
		if (line)
			snprintf(line, len, "%s", buf);
	}
	if (fp)
		fclose(fp);
	return n;
}

/* ---- topics and records -------------------------------------------------- */

/* The test's name for topic @name: unique on this host (see the top). */
static const char *tname(const char *name)
{
	static char buf[4][64];
	static unsigned i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof(buf[0]), "mt%d-%s", (int)getpid(), name);
	return b;
}

static void sfctl_ok(const struct fx *f, const char *const *args)
{
	const char *argv[32] = { "sfctl", "-b", f->d.run_dir };
	char what[256] = "sfctl";
	struct t_res r;
	int n = 3;

	for (int i = 0; args[i] && n < 31; i++) {
		argv[n++] = args[i];
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " %s", args[i]);
	}
	argv[n] = NULL;
	t_run(&r, TOOL_MS, 0, NULL, 0, argv);
	t_res_check(&r, 0, what);
	t_res_free(&r);
}

#define SFCTL(f, ...) sfctl_ok(f, T_ARGS(__VA_ARGS__))

static void create_topic(const struct fx *f, const char *topic, unsigned parts)
{
	char n[16];

	snprintf(n, sizeof(n), "%u", parts);
	SFCTL(f, "topic", "create", topic, "--partitions", n);
}

/* What a producer run sends. */
struct batch {
	const char *topic;
	int part; /* -p; -1: none (a topic of one partition) */
	unsigned n; /* records */
	unsigned klen; /* key bytes (-K :), 0: no key */
	unsigned vlen; /* value bytes */
	const char *acks; /* written or durable */
};

/* @n lines of @klen key bytes, ':' if keyed, @vlen value bytes. */
static char *make_lines(const struct batch *b, size_t *len)
{
	size_t line = b->klen + (b->klen ? 1 : 0) + b->vlen + 1;
	char *buf = malloc(line * b->n + 1), *p = buf;

	assert_non_null(buf);
	for (unsigned i = 0; i < b->n; i++) {
		for (unsigned j = 0; j < b->klen; j++)
			*p++ = (char)('A' + (i + j) % 26);
		if (b->klen)
			*p++ = ':';
		for (unsigned j = 0; j < b->vlen; j++)
			*p++ = (char)('a' + (i * 7 + j) % 26);
		*p++ = '\n';
	}
	*len = (size_t)(p - buf);
	return buf;
}

/*
 * Start sfcat -P sending @b as @uid; the lines it reads are the proc's
 * (p->own).  Its stdin stays open until the proc is pumped (t_proc.h): a
 * @b of no records makes a client that connects, opens the topic and
 * waits for lines until then.
 */
static void produce_start(struct t_proc *p, const struct fx *f, uid_t uid,
			  const struct batch *b)
{
	char part[16], acks[32];
	const char *argv[16] = { "sfcat", "-b",	    f->d.run_dir, "-P",
				 "-t",	  b->topic, "-X",	  acks };
	size_t len = 0;
	char *in = b->n ? make_lines(b, &len) : NULL;
	int n = 8;

	snprintf(acks, sizeof(acks), "acks=%s", b->acks ? b->acks : "written");
	if (b->part >= 0) {
		snprintf(part, sizeof(part), "%d", b->part);
		argv[n++] = "-p";
		argv[n++] = part;
	}
	if (b->klen) {
		argv[n++] = "-K";
		argv[n++] = ":";
	}
	argv[n] = NULL;
	t_proc_start(p, uid, in, len, argv);
	p->own = in;
}

/* Fail unless the producer of @b (@r) ended well. */
static void check_produced(const struct t_res *r, const struct batch *b)
{
	char what[128];

	snprintf(what, sizeof(what), "sfcat -P -t %s -p %d (%u records)",
		 b->topic, b->part, b->n);
	t_res_check(r, 0, what);
}

/* Send @b with sfcat -P as @uid; every record acknowledged. */
static void produce(const struct fx *f, uid_t uid, const struct batch *b)
{
	struct t_proc p;
	struct t_res r;

	produce_start(&p, f, uid, b);
	t_proc_finish(&p, tool_deadline(), &r);
	check_produced(&r, b);
	t_res_free(&r);
}

/* Records and key + value bytes per partition. */
struct tally {
	uint64_t records[MAX_PARTS];
	uint64_t bytes[MAX_PARTS];
};

static uint64_t tally_records(const struct tally *t)
{
	uint64_t n = 0;

	for (int i = 0; i < MAX_PARTS; i++)
		n += t->records[i];
	return n;
}

static void tally_batch(struct tally *t, const struct batch *b)
{
	int p = b->part < 0 ? 0 : b->part;

	t->records[p] += b->n;
	t->bytes[p] += (uint64_t)b->n * (b->klen + b->vlen);
}

/* Start one `sfcat -C -e` reading @topic whole as @uid. */
static void consume_start(struct t_proc *p, const struct fx *f, uid_t uid,
			  const char *topic)
{
	t_proc_start(p, uid, NULL, 0,
		     T_ARGS("sfcat", "-b", f->d.run_dir, "-C", "-t", topic,
			    "-e", "-f", "%p %K %S\\n"));
}

/* What the consumer of @topic (@r, from consume_start()) printed, per
 * partition, added to @got.  Return: the records read. */
static uint64_t tally_output(const struct t_res *r, const char *topic,
			     struct tally *got)
{
	uint64_t n = 0;
	char what[128];

	snprintf(what, sizeof(what), "sfcat -C -e -t %s", topic);
	t_res_check(r, 0, what);
	for (char *line = r->out; *line;) {
		char *nl = strchr(line, '\n');
		unsigned p = 0;
		long k = 0, v = 0;

		if (!nl || sscanf(line, "%u %ld %ld", &p, &k, &v) != 3 ||
		    p >= MAX_PARTS)
			fail_msg("%s: bad line \"%.80s\"", what, line);
		got->records[p]++;
		got->bytes[p] +=
			(uint64_t)(k > 0 ? k : 0) + (uint64_t)(v > 0 ? v : 0);
		n++;
		line = nl + 1;
	}
	return n;
}

/*
 * Read @topic whole with one `sfcat -C -e` as @uid: what it printed, per
 * partition, is added to @got.  Return: the records read.
 */
static uint64_t consume(const struct fx *f, uid_t uid, const char *topic,
			struct tally *got)
{
	struct t_proc p;
	struct t_res r;
	uint64_t n;

	consume_start(&p, f, uid, topic);
	t_proc_finish(&p, tool_deadline(), &r);
	n = tally_output(&r, topic, got);
	t_res_free(&r);
	return n;
}

/* A partition as `sfctl topic describe --json` shows it. */
struct pdesc {
	int64_t end; /* log_end */
	int64_t durable; /* durable_offset */
	uint64_t log_bytes;
};

/* The partitions of @topic into @d[].  Return: how many. */
static unsigned describe(const struct fx *f, const char *topic, struct pdesc *d)
{
	struct jv doc;
	const struct jv *topics, *parts;
	struct t_res r;
	unsigned n;

	t_run(&r, TOOL_MS, 0, NULL, 0,
	      T_ARGS("sfctl", "-b", f->d.run_dir, "topic", "describe", topic,
		     "--json"));
	t_res_check(&r, 0, "sfctl topic describe --json");
	j_parse(r.out, &doc, "sfctl topic describe --json");
	topics = j_get(&doc, "topics");
	if (!topics || topics->type != J_ARR || topics->nkid != 1)
		fail_msg("describe %s: no topics[1]: %.500s", topic, r.out);
	parts = j_get(&topics->kid[0], "partitions");
	if (!parts || parts->type != J_ARR || parts->nkid > MAX_PARTS)
		fail_msg("describe %s: partitions: %.500s", topic, r.out);
	n = (unsigned)parts->nkid;
	for (unsigned i = 0; i < n; i++) {
		const struct jv *p = &parts->kid[i];
		uint64_t idx = j_num(p, "partition", "describe");

		assert_true(idx < n);
		d[idx].end = (int64_t)j_num(p, "log_end", "describe");
		d[idx].durable =
			(int64_t)j_num(p, "durable_offset", "describe");
		d[idx].log_bytes = j_num(p, "log_bytes", "describe");
	}
	j_free(&doc);
	t_res_free(&r);
	return n;
}

/* ---- waiting for the counters ------------------------------------------- */

/* What settle() waits for: @want in @topic (@parts partitions) of @f. */
struct settle_wait {
	const struct fx *f;
	const char *topic;
	unsigned parts;
	const struct tally *want;
	struct pdesc d[MAX_PARTS]; /* synced(): the last look at the log */
	struct snap s; /* persisted(): the last snapshot */
};

/* Has every partition persisted at least what was sent? */
static bool persisted(void *arg)
{
	struct settle_wait *w = arg;

	snap_free(&w->s);
	snap_take(w->f->pins, &w->s);
	for (unsigned p = 0; p < w->parts; p++) {
		const struct sfm_stats *v = snap_stats(&w->s, w->topic, p);

		if (w->want->records[p] &&
		    (!v || v->records_in < w->want->records[p]))
			return false;
	}
	return true;
}

/* Is every record sent in the log and fsynced? */
static bool synced(void *arg)
{
	struct settle_wait *w = arg;

	if (describe(w->f, w->topic, w->d) != w->parts)
		fail_msg("%s: not %u partitions", w->topic, w->parts);
	for (unsigned p = 0; p < w->parts; p++)
		if (w->d[p].end != (int64_t)w->want->records[p] ||
		    w->d[p].durable != w->d[p].end)
			return false;
	return true;
}

/*
 * Wait until what was sent to @topic (@want) is in the log and fsynced,
 * and counted in records_in everywhere; then take the snapshot into @s.
 * Once nothing is left to write or fsync the counters and histograms
 * stand still, so that the two maps, dumped one after the other, agree.
 * Acknowledged records are counted by the time their acknowledgement is
 * published (the persist probe fires first), so records_in normally
 * holds at once; the deadlines cover the flush interval (log.flush.
 * interval.ms, 1 s) and a slow machine.
 */
static void settle(const struct fx *f, const char *topic, unsigned parts,
		   const struct tally *want, struct snap *s)
{
	struct settle_wait w = {
		.f = f, .topic = topic, .parts = parts, .want = want
	};

	if (!t_wait_for(synced, &w, WAIT_MS)) {
		for (unsigned p = 0; p < parts; p++)
			fprintf(stderr,
				"  %s-%u: log_end %lld, durable %lld, sent "
				"%llu\n",
				topic, p, (long long)w.d[p].end,
				(long long)w.d[p].durable,
				(unsigned long long)want->records[p]);
		fail_msg("%s: the log did not get what was sent, fsynced",
			 topic);
	}
	if (!t_wait_for(persisted, &w, WAIT_MS)) {
		for (unsigned p = 0; p < parts; p++) {
			const struct sfm_stats *v = snap_stats(&w.s, topic, p);

			fprintf(stderr, "  %s-%u: records_in %llu, want %llu\n",
				topic, p,
				v ? (unsigned long long)v->records_in : 0ull,
				(unsigned long long)want->records[p]);
		}
		snap_free(&w.s);
		fail_msg("%s: records_in did not reach what was sent", topic);
	}
	*s = w.s;
}

/* The entry of @topic-@p, or fail. */
static const struct sfm_stats *stats_of(const struct snap *s, const char *topic,
					uint32_t p)
{
	const struct sfm_stats *v = snap_stats(s, topic, p);

	if (!v)
		fail_msg("no topic_stats entry for %s-%u", topic, p);
	return v;
}

#define EXPECT_EQ(what, topic, p, got, want)                               \
	do {                                                               \
		unsigned long long g_ = (got), w_ = (want);                \
		if (g_ != w_)                                              \
			fail_msg("%s-%u: %s is %llu, want %llu", topic, p, \
				 what, g_, w_);                            \
	} while (0)

/* A histogram is consistent: slots add up to count, max within sum. */
static void check_hist(const struct sfm_hist *h, const char *topic, uint32_t p,
		       const char *kind)
{
	uint64_t n = 0;

	for (int i = 0; i < SFM_HIST_SLOTS; i++)
		n += h->slot[i];
	if (n != h->count)
		fail_msg("%s-%u %s: slots add up to %llu, count %llu", topic, p,
			 kind, (unsigned long long)n,
			 (unsigned long long)h->count);
	if (h->count && (h->max_ns > h->sum_ns || h->max_ns > LAT_MAX_NS))
		fail_msg("%s-%u %s: max %llu ns, sum %llu ns over %llu: not "
			 "a latency of this test",
			 topic, p, kind, (unsigned long long)h->max_ns,
			 (unsigned long long)h->sum_ns,
			 (unsigned long long)h->count);
}

/*
 * Check @topic's counters against what was sent (@in) and what consumers
 * read (@out), its persist and fsync histograms against the counters, and
 * its log end offsets (sfctl) against records_in, all per partition.
 */
static void check_topic(const struct fx *f, const struct snap *s,
			const char *topic, unsigned parts,
			const struct tally *in, const struct tally *out)
{
	struct pdesc d[MAX_PARTS];

	assert_int_equal(describe(f, topic, d), parts);
	for (unsigned p = 0; p < parts; p++) {
		const struct sfm_stats *v = stats_of(s, topic, p);
		const struct sfm_hist *ph =
			snap_hist(s, topic, p, SFM_HIST_PERSIST);
		const struct sfm_hist *fh =
			snap_hist(s, topic, p, SFM_HIST_FSYNC);

		EXPECT_EQ("records_in", topic, p, v->records_in,
			  in->records[p]);
		EXPECT_EQ("bytes_in", topic, p, v->bytes_in, in->bytes[p]);
		EXPECT_EQ("records_out", topic, p, v->records_out,
			  out->records[p]);
		EXPECT_EQ("bytes_out", topic, p, v->bytes_out, out->bytes[p]);
		/* The daemon's log and its counters agree to the record. */
		EXPECT_EQ("records_in vs sfctl's log_end", topic, p,
			  v->records_in, (uint64_t)d[p].end);
		if (v->batches_in < 1 || v->batches_in > v->records_in)
			fail_msg("%s-%u: %llu batches for %llu records", topic,
				 p, (unsigned long long)v->batches_in,
				 (unsigned long long)v->records_in);
		/* Each batch is encoded with a header around its records. */
		if (v->log_bytes <= v->bytes_in)
			fail_msg("%s-%u: log_bytes %llu <= bytes_in %llu",
				 topic, p, (unsigned long long)v->log_bytes,
				 (unsigned long long)v->bytes_in);
		if (v->records_out &&
		    (v->polls_out < (v->records_out + SFM_CONSUME_BATCH - 1) /
					    SFM_CONSUME_BATCH ||
		     v->polls_out > v->records_out))
			fail_msg("%s-%u: %llu reports for %llu records out",
				 topic, p, (unsigned long long)v->polls_out,
				 (unsigned long long)v->records_out);
		EXPECT_EQ("errors", topic, p, v->errors, 0);
		if (!ph)
			fail_msg("%s-%u: no persist latency", topic, p);
		/* One persist sample per batch. */
		EXPECT_EQ("persist latency count", topic, p, ph->count,
			  v->batches_in);
		check_hist(ph, topic, p, "persist");
		EXPECT_EQ("fsync latency count", topic, p, fh ? fh->count : 0,
			  v->fsyncs);
		if (fh)
			check_hist(fh, topic, p, "fsync");
		printf("  %s-%u: in %llu rec %llu B in %llu batches (log "
		       "%llu B, sfctl %llu B), out %llu rec %llu B in %llu "
		       "reports, %llu fsyncs, futex %llu waits %llu wakes, "
		       "persist mean %llu us\n",
		       topic, p, (unsigned long long)v->records_in,
		       (unsigned long long)v->bytes_in,
		       (unsigned long long)v->batches_in,
		       (unsigned long long)v->log_bytes,
		       (unsigned long long)d[p].log_bytes,
		       (unsigned long long)v->records_out,
		       (unsigned long long)v->bytes_out,
		       (unsigned long long)v->polls_out,
		       (unsigned long long)v->fsyncs,
		       (unsigned long long)v->futex_waits,
		       (unsigned long long)v->futex_wakes,
		       (unsigned long long)(ph->sum_ns / ph->count / 1000));
	}
}

/*
 * The end-to-end samples of @topic: a consumer samples one record in
 * SFM_SAMPLE_EVERY of each partition, counted from its first, so one
 * consumer that read @out->records[p] of partition p from the start took
 * exactly that / SFM_SAMPLE_EVERY samples there.
 */
static void check_e2e(const struct snap *s, const char *topic, unsigned parts,
		      const struct tally *out)
{
	for (unsigned p = 0; p < parts; p++) {
		const struct sfm_hist *h = snap_hist(s, topic, p, SFM_HIST_E2E);
		uint64_t want = out->records[p] / SFM_SAMPLE_EVERY;
		uint64_t n = h ? h->count : 0;

		if (h)
			check_hist(h, topic, p, "e2e");
		printf("  %s-%u: %llu end-to-end samples for %llu records "
		       "consumed\n",
		       topic, p, (unsigned long long)n,
		       (unsigned long long)out->records[p]);
		if (n != want)
			fail_msg("%s-%u: %llu end-to-end samples for %llu "
				 "records read by one consumer: want %llu",
				 topic, p, (unsigned long long)n,
				 (unsigned long long)out->records[p],
				 (unsigned long long)want);
	}
}

static bool has_e2e(const struct snap *s, const char *topic, unsigned parts)
{
	for (unsigned p = 0; p < parts; p++)
		if (snap_hist(s, topic, p, SFM_HIST_E2E))
			return true;
	return false;
}

static void check_metrics_on(const struct fx *f)
{
	char line[2048], want[256];

	snprintf(want, sizeof(want), "metrics: on, maps in %s", f->pins);
	if (log_count(f, want, line, sizeof(line)) < 1)
		fail_msg("the log has no \"%s\"", want);
	snprintf(want, sizeof(want), "%s/" SFM_MAP_STATS, f->pins);
	if (!t_path_exists("%s", want))
		fail_msg("%s is not pinned", want);
}

/* Send the @n batches @b[] one after the other as @uid, each added to @in. */
static void produce_all(const struct fx *f, uid_t uid, const struct batch *b,
			size_t n, struct tally *in)
{
	for (size_t i = 0; i < n; i++) {
		produce(f, uid, &b[i]);
		tally_batch(in, &b[i]);
	}
}

/*
 * Wait until @topic has settled with what was sent (@in), then check its
 * counters against @in and what was read (@out); the snapshot into @s.
 */
static void settle_check(const struct fx *f, const char *topic, unsigned parts,
			 const struct tally *in, const struct tally *out,
			 struct snap *s)
{
	settle(f, topic, parts, in, s);
	check_topic(f, s, topic, parts, in, out);
}

/*
 * One round on @topic (@parts partitions): send the @n batches @b[]
 * (added to @in), read the topic whole once (added to @out) and check the
 * counters once they settled; the snapshot into @s.
 */
static void round_trip(const struct fx *f, const char *topic, unsigned parts,
		       const struct batch *b, size_t n, struct tally *in,
		       struct tally *out, struct snap *s)
{
	produce_all(f, 0, b, n, in);
	consume(f, 0, topic, out);
	settle_check(f, topic, parts, in, out, s);
}

/*
 * Send @b as @uid, then read its topic whole as @uid: what was read is
 * exactly what was sent.
 */
static void move_all(const struct fx *f, uid_t uid, const struct batch *b)
{
	struct tally in = { 0 }, out = { 0 };

	produce_all(f, uid, b, 1, &in);
	assert_int_equal(consume(f, uid, b->topic, &out), b->n);
	assert_memory_equal(&out, &in, sizeof(in));
}

/* ---- 1. exact totals ----------------------------------------------------- */

static void test_exact_totals(void **state)
{
	struct fx *f = *state;
	const char *a = tname("plain"), *b = tname("keyed"),
		   *c = tname("durable");
	const struct batch sent[] = {
		{ a, -1, 3000, 0, 100, "written" },
		{ b, 0, 500, 6, 40, "written" },
		{ b, 1, 611, 6, 40, "written" },
		{ b, 2, 722, 6, 40, "written" },
		{ c, 0, 50, 3, 17, "durable" },
		{ c, 1, 100, 3, 17, "durable" },
		{ c, 2, 150, 3, 17, "durable" },
		{ c, 3, 200, 3, 17, "durable" },
	};
	struct tally in[3] = { 0 }, out[3] = { 0 };
	const char *topics[3] = { a, b, c };
	const unsigned parts[3] = { 1, 3, 4 };
	uint64_t consumed[3];
	struct snap s;

	start(f);
	check_metrics_on(f);
	for (int t = 0; t < 3; t++)
		create_topic(f, topics[t], parts[t]);
	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		int t = sent[i].topic == a ? 0 : sent[i].topic == b ? 1 : 2;

		produce_all(f, 0, &sent[i], 1, &in[t]);
	}
	for (int t = 0; t < 3; t++) {
		consumed[t] = consume(f, 0, topics[t], &out[t]);
		/* The consumer read exactly what was sent. */
		assert_int_equal(consumed[t], tally_records(&in[t]));
		assert_memory_equal(&out[t], &in[t], sizeof(out[t]));
	}
	for (int t = 0; t < 3; t++) {
		settle_check(f, topics[t], parts[t], &in[t], &out[t], &s);
		check_e2e(&s, topics[t], parts[t], &out[t]);
		if (t == 2) {
			/* acks=durable: each producer waited for an fsync. */
			for (unsigned p = 0; p < parts[t]; p++)
				if (stats_of(&s, c, p)->fsyncs < 1)
					fail_msg("%s-%u: no fsync counted for "
						 "acks=durable",
						 c, p);
		}
		snap_free(&s);
	}
	f->passed = true;
}

/* ---- 2. restart ---------------------------------------------------------- */

static size_t dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_restart(void **state)
{
	struct fx *f = *state;
	const char *t = tname("restart");
	const struct batch first[] = { { t, 0, 700, 4, 60, "written" },
				       { t, 1, 300, 4, 60, "written" } };
	const struct batch second[] = { { t, 0, 200, 4, 60, "written" },
					{ t, 1, 100, 4, 60, "written" } };
	struct tally in = { 0 }, out = { 0 };
	char path[256], line[2048], want[256];
	struct snap s;

	start(f);
	check_metrics_on(f);
	create_topic(f, t, 2);
	round_trip(f, t, 2, first, 2, &in, &out, &s);
	snap_free(&s);

	/* Stopped, the daemon leaves its maps and links pinned. */
	if (t_daemon_term(&f->d))
		fail_msg("sfshmd did not exit cleanly on SIGTERM");
	snprintf(path, sizeof(path), "%s/" SFM_MAP_STATS, f->pins);
	if (!t_path_exists("%s", path))
		fail_msg("%s is gone after SIGTERM", path);
	snprintf(path, sizeof(path), "%s/links", f->pins);
	if (dir_entries(path) < 1)
		fail_msg("no links pinned in %s after SIGTERM", path);
	snap_take(f->pins, &s); /* readable with no daemon */
	EXPECT_EQ("records_in with no daemon", t, 0,
		  stats_of(&s, t, 0)->records_in, in.records[0]);
	snap_free(&s);

	/* The next daemon of the instance takes them over. */
	start(f);
	snprintf(want, sizeof(want), "reusing the maps and links pinned in %s",
		 f->pins);
	if (log_count(f, want, line, sizeof(line)) != 1)
		fail_msg("after the restart the log does not say once \"%s\"",
			 want);
	if (log_count(f, "metrics: on", NULL, 0) != 2)
		fail_msg("\"metrics: on\" is not in the log once per start");
	/* All of it again: the consumer's counts add to the old ones. */
	round_trip(f, t, 2, second, 2, &in, &out, &s);
	snap_free(&s);
	f->passed = true;
}

/* ---- 3. --no-bpf --------------------------------------------------------- */

/* The instance a daemon without --instance would use: run.dir's name. */
static void default_pins(const struct fx *f, char *buf, size_t len)
{
	const char *slash = strrchr(f->d.run_dir, '/');

	snprintf(buf, len, "%s/%s", SFM_BPFFS_ROOT,
		 slash ? slash + 1 : f->d.run_dir);
}

/*
 * @f's daemon runs with metrics off, as @who (the failures' first words)
 * wants: its log says "metrics off" once (that line into @line, @len
 * bytes) and "metrics: on" never, and nothing is pinned, neither for its
 * instance nor for the one a daemon without --instance would use.
 */
static void check_metrics_off(const struct fx *f, const char *who, char *line,
			      size_t len)
{
	char other[256];

	if (log_count(f, "metrics off", line, len) != 1)
		fail_msg("%s: the log does not say once \"metrics off\"", who);
	if (log_count(f, "metrics: on", NULL, 0))
		fail_msg("%s, yet the log says \"metrics: on\"", who);
	if (t_path_exists("%s", f->pins))
		fail_msg("%s, yet %s exists", who, f->pins);
	default_pins(f, other, sizeof(other));
	if (t_path_exists("%s", other))
		fail_msg("%s, yet %s exists", who, other);
}

static void test_no_bpf(void **state)
{
	struct fx *f = *state;
	const char *t = tname("nobpf");
	const struct batch b = { t, 0, 100, 0, 32, "written" };

	f->d.bpf = false; /* t_daemon passes --no-bpf */
	start(f);
	create_topic(f, t, 1);
	move_all(f, 0, &b);
	check_metrics_off(f, "--no-bpf", NULL, 0);
	f->passed = true;
}

/* ---- 4. unprivileged ----------------------------------------------------- */

struct as_nobody {
	const char *paths[4];
};

/* In a child: can nobody run each binary? */
static int nobody_can_exec(void *arg)
{
	const struct as_nobody *a = arg;

	if (t_become(NOBODY))
		return 2;
	for (int i = 0; a->paths[i]; i++)
		if (access(a->paths[i], X_OK))
			return 1;
	return 0;
}

static bool skip_unless_nobody_can_exec(struct fx *f)
{
	char d[PATH_MAX + 16], cat[PATH_MAX + 16], ctl[PATH_MAX + 16];
	struct as_nobody a = { { d, cat, ctl, NULL } };
	int st;

	snprintf(d, sizeof(d), "%s/sfshmd", t_bin_dir());
	snprintf(cat, sizeof(cat), "%s/tools/sfcat", t_bin_dir());
	snprintf(ctl, sizeof(ctl), "%s/tools/sfctl", t_bin_dir());
	st = t_run_child(nobody_can_exec, &a, 10000);
	if (st == 0)
		return false;
	t_skip_note("uid %d cannot run the binaries under %s (status %d): no "
		    "unprivileged test",
		    NOBODY, t_bin_dir(), st);
	f->passed = true;
	return true;
}

static void test_unprivileged(void **state)
{
	struct fx *f = *state;
	const char *t = tname("nobody");
	const struct batch b = { t, 0, 100, 5, 20, "written" };
	char line[2048], who[32];
	const char *why;
	struct stat st;

	if (skip_unless_nobody_can_exec(f))
		skip();
	/*
	 * On the private bpffs (main()) this test runs first, so that
	 * SFM_BPFFS_ROOT does not exist yet and /sys/fs/bpf is world-writable
	 * (1777, as on many hosts and in containers): an unprivileged daemon
	 * must not make it its own.
	 */
	f->d.uid = NOBODY;
	assert_int_equal(chown(f->d.data_dir, NOBODY, NOBODY), 0);
	assert_int_equal(chown(f->d.run_dir, NOBODY, NOBODY), 0);
	start(f);
	create_topic(f, t, 1); /* root may */
	move_all(f, NOBODY, &b);

	snprintf(who, sizeof(who), "as uid %d", NOBODY);
	check_metrics_off(f, who, line, sizeof(line));
	why = strstr(line, "metrics off") + strlen("metrics off");
	if (strlen(why) < 8)
		fail_msg("\"metrics off\" without a reason: %s", line);
	printf("  as nobody: %s", line);
	if (stat(SFM_BPFFS_ROOT, &st) == 0 && st.st_uid == NOBODY) {
		rmdir(SFM_BPFFS_ROOT); /* not for the next tests' daemons */
		fail_msg("%s was left behind owned by uid %d (mode %o): that "
			 "user may rename later daemons' instance directories, "
			 "or make them first and unpin what root pins there",
			 SFM_BPFFS_ROOT, NOBODY, (unsigned)st.st_mode & 07777);
	}
	f->passed = true;
}

/* ---- 5. delete ----------------------------------------------------------- */

/* Every entry of @topic, for a failure. */
static void print_topic(const struct snap *s, const char *topic)
{
	for (size_t i = 0; i < s->nst; i++) {
		if (strncmp(s->st[i].k.topic, topic, SFM_TOPIC_LEN))
			continue;
		fprintf(stderr, "  topic_stats %s-%u:", topic,
			s->st[i].k.partition);
		for (size_t j = 0; j < NSTATS; j++)
			fprintf(stderr, " %s %llu", stats_fields[j].name,
				(unsigned long long)stat_field(&s->st[i].v, j));
		fprintf(stderr, "\n");
	}
	for (size_t i = 0; i < s->nh; i++)
		if (!strncmp(s->h[i].k.topic, topic, SFM_TOPIC_LEN))
			fprintf(stderr,
				"  topic_latency %s-%u kind %u: count %llu\n",
				topic, s->h[i].k.partition, s->h[i].k.kind,
				(unsigned long long)s->h[i].v.count);
}

struct gone_wait {
	const struct fx *f;
	const char *topic;
	size_t left; /* entries still there, last time */
};

static bool counters_gone(void *arg)
{
	struct gone_wait *w = arg;
	struct snap s;

	snap_take(w->f->pins, &s);
	w->left = snap_count_topic(&s, w->topic);
	snap_free(&s);
	return w->left == 0;
}

static void test_delete(void **state)
{
	struct fx *f = *state;
	const char *t = tname("delete");
	const struct batch old[] = { { t, 0, 1500, 2, 30, "durable" },
				     { t, 1, 100, 2, 30, "written" },
				     { t, 2, 100, 2, 30, "written" } };
	const struct batch again = { t, 0, 10, 2, 30, "written" };
	struct tally in = { 0 }, out = { 0 };
	struct gone_wait w = { .f = f, .topic = t };
	struct snap s;

	start(f);
	check_metrics_on(f);
	create_topic(f, t, 3);
	round_trip(f, t, 3, old, 3, &in, &out, &s);
	/* There is something to drop: counters and all three histograms. */
	if (!has_e2e(&s, t, 3))
		fail_msg("%s: 1700 records read, no end-to-end sample", t);
	assert_non_null(snap_hist(&s, t, 0, SFM_HIST_FSYNC));
	snap_free(&s);

	SFCTL(f, "topic", "delete", t);
	if (!t_wait_for(counters_gone, &w, WAIT_MS)) {
		snap_take(f->pins, &s);
		print_topic(&s, t);
		snap_free(&s);
		fail_msg("%s deleted: %zu entries of it still in the maps", t,
			 w.left);
	}

	/* The same name again, with one partition: from zero. */
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	create_topic(f, t, 1);
	produce_all(f, 0, &again, 1, &in);
	settle_check(f, t, 1, &in, &out, &s);
	for (uint32_t p = 1; p < 3; p++)
		if (snap_stats(&s, t, p) ||
		    snap_hist(&s, t, p, SFM_HIST_PERSIST))
			fail_msg("%s-%u of the deleted topic is back", t, p);
	if (has_e2e(&s, t, 1))
		fail_msg("%s-0: end-to-end samples of the deleted topic", t);
	snap_free(&s);
	f->passed = true;
}

/* ---- 6. two instances ---------------------------------------------------- */

#define MAX_PIDS 64 /* clients a test starts against one daemon */
#define MAX_ENTRIES 4096 /* entries of procs or ring_addrs read */

/* One instance's processes, as the test knows them. */
struct side {
	const char *name; /* "A", "B" */
	const struct fx *f;
	uint32_t live; /* its client kept connected; 0 once gone */
	uint32_t pids[MAX_PIDS]; /* its daemon, then each client started */
	size_t npids;
	uint32_t procs[MAX_ENTRIES]; /* its procs map, last look */
	size_t nprocs;
};

static bool pid_in(uint32_t pid, const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

static void side_add(struct side *x, pid_t pid)
{
	assert_true(pid > 0 && x->npids < MAX_PIDS);
	x->pids[x->npids++] = (uint32_t)pid;
}

/* Fail if @got (of @x's @map) names a process of @y: daemon or client. */
static void not_theirs(const struct side *x, const char *map,
		       const uint32_t *got, size_t n, const struct side *y)
{
	for (size_t i = 0; i < n; i++)
		if (pid_in(got[i], y->pids, y->npids))
			fail_msg("instance %s's %s holds pid %u, a process of "
				 "instance %s (whose daemon is pid %u)",
				 x->name, map, got[i], y->name, y->pids[0]);
}

static void print_side(FILE *fp, const struct side *x)
{
	fprintf(fp, "  instance %s: daemon %u, live client %u, procs {",
		x->name, x->pids[0], x->live);
	for (size_t i = 0; i < x->nprocs; i++)
		fprintf(fp, "%s%u", i ? ", " : "", x->procs[i]);
	fprintf(fp, "}\n");
}

/*
 * Do both instances' procs maps hold exactly their daemon and their live
 * client, and has that client's ring mapping been counted (ring_addrs)?
 * Fails at once if procs or ring_addrs of one names a process of the
 * other: never, not even for a moment, may it count the other's traffic.
 */
static bool isolated(void *arg)
{
	struct side **w = arg;
	bool ok = true;

	for (int i = 0; i < 2; i++) {
		struct side *x = w[i];
		const struct side *y = w[1 - i];
		static uint32_t rings[MAX_ENTRIES];
		size_t nr;

		x->nprocs = map_tgids(x->f->pins, SFM_MAP_PROCS, x->procs,
				      MAX_ENTRIES);
		not_theirs(x, SFM_MAP_PROCS, x->procs, x->nprocs, y);
		nr = map_tgids(x->f->pins, SFM_MAP_RINGS, rings, MAX_ENTRIES);
		not_theirs(x, SFM_MAP_RINGS, rings, nr, y);
		if (x->nprocs != 1u + (x->live != 0) ||
		    !pid_in(x->pids[0], x->procs, x->nprocs) ||
		    (x->live && !pid_in(x->live, x->procs, x->nprocs)) ||
		    (x->live && !pid_in(x->live, rings, nr)))
			ok = false;
	}
	return ok;
}

static void wait_isolated(struct side *a, struct side *b, const char *when)
{
	struct side *w[2] = { a, b };

	if (t_wait_for(isolated, w, WAIT_MS)) {
		printf("  %s:\n", when);
		print_side(stdout, a);
		print_side(stdout, b);
		return;
	}
	print_side(stderr, a);
	print_side(stderr, b);
	fail_msg("%s: the procs maps do not hold just their daemon and "
		 "live client (or a live client's rings are not in its "
		 "instance's ring_addrs)",
		 when);
}

/*
 * Every entry in @s is of one of @topics[] (@parts[] partitions each,
 * @n topics), and topic_stats has one per partition: no entry of the
 * other instance's topics, and no partition of the shared one that only
 * the other has.
 */
static void only_own(const struct snap *s, const char *who,
		     const char *const *topics, const unsigned *parts, size_t n)
{
	size_t want = 0;

	for (size_t i = 0; i < n; i++)
		want += parts[i];
	for (size_t i = 0; i < s->nst + s->nh; i++) {
		const char *t = i < s->nst ? s->st[i].k.topic :
					     s->h[i - s->nst].k.topic;
		uint32_t p = i < s->nst ? s->st[i].k.partition :
					  s->h[i - s->nst].k.partition;
		size_t j = 0;

		while (j < n && strncmp(t, topics[j], SFM_TOPIC_LEN))
			j++;
		if (j == n || p >= parts[j])
			fail_msg("instance %s has an entry for %.*s-%u, not "
				 "its own: %s",
				 who, SFM_TOPIC_LEN, t, p,
				 i < s->nst ? "topic_stats" : "topic_latency");
	}
	if (s->nst != want)
		fail_msg("instance %s: %zu topic_stats entries, want %zu", who,
			 s->nst, want);
}

static void test_two_instances(void **state)
{
	struct fx2 *fx = *state;
	struct fx *fa = &fx->a, *fb = &fx->b;
	/* The same name on both daemons; one more topic each of its own. */
	const char *t = tname("twin"), *ta = tname("only-a"),
		   *tb = tname("only-b");
	/* N_A = 2700 and N_B = 4400 records to the shared name, in records
	 * and bytes of different sizes. */
	const struct batch sent[] = {
		{ t, 0, 2000, 0, 40, "written" },
		{ t, 1, 700, 5, 30, "written" },
		{ ta, -1, 300, 4, 16, "durable" },
		{ t, 0, 1300, 3, 60, "written" },
		{ t, 1, 3100, 0, 20, "written" },
		{ tb, -1, 150, 0, 24, "durable" },
	};
	/* Each batch's tally: A's twin, A's own, B's twin, B's own. */
	const int which[] = { 0, 0, 1, 2, 2, 3 };
	const char *const topics[4] = { t, ta, t, tb };
	const unsigned parts[4] = { 2, 1, 2, 1 };
	struct fx *const on[4] = { fa, fa, fb, fb };
	const struct batch idle_a = { t, 0, 0, 0, 0, "written" },
			   idle_b = { t, 1, 0, 0, 0, "written" };
	struct side sa = { .name = "A", .f = fa },
		    sb = { .name = "B", .f = fb };
	struct tally in[4] = { 0 }, out[4] = { 0 };
	struct t_res r[6];
	uint64_t n[4];
	struct snap s;

	start(fa);
	start(fb);
	check_metrics_on(fa);
	check_metrics_on(fb);
	side_add(&sa, fa->d.pid);
	side_add(&sb, fb->d.pid);
	for (int i = 0; i < 4; i++)
		create_topic(on[i], topics[i], parts[i]);

	/* One client of each, connected until the end, sending nothing. */
	produce_start(&fx->kids[0], fa, 0, &idle_a);
	produce_start(&fx->kids[1], fb, 0, &idle_b);
	sa.live = (uint32_t)fx->kids[0].pid;
	sb.live = (uint32_t)fx->kids[1].pid;
	side_add(&sa, fx->kids[0].pid);
	side_add(&sb, fx->kids[1].pid);

	/* Six producers at once: A's and B's records interleave. */
	for (int i = 0; i < 6; i++) {
		struct fx *f = which[i] < 2 ? fa : fb;

		produce_start(&fx->kids[2 + i], f, 0, &sent[i]);
		side_add(f == fa ? &sa : &sb, fx->kids[2 + i].pid);
		tally_batch(&in[which[i]], &sent[i]);
	}
	t_procs_finish(&fx->kids[2], 6, tool_deadline(), r);
	for (int i = 0; i < 6; i++) {
		check_produced(&r[i], &sent[i]);
		t_res_free(&r[i]);
	}

	/* Four consumers at once, each reading one topic of one daemon. */
	for (int i = 0; i < 4; i++) {
		consume_start(&fx->kids[2 + i], on[i], 0, topics[i]);
		side_add(on[i] == fa ? &sa : &sb, fx->kids[2 + i].pid);
	}
	t_procs_finish(&fx->kids[2], 4, tool_deadline(), r);
	for (int i = 0; i < 4; i++) {
		n[i] = tally_output(&r[i], topics[i], &out[i]);
		t_res_free(&r[i]);
		assert_int_equal(n[i], tally_records(&in[i]));
		assert_memory_equal(&out[i], &in[i], sizeof(in[i]));
	}
	assert_true(tally_records(&in[0]) != tally_records(&in[2]));

	/* Each instance counted its own, to the record and the byte. */
	for (int i = 0; i < 4; i++) {
		printf("  instance %s:\n", on[i] == fa ? "A" : "B");
		settle_check(on[i], topics[i], parts[i], &in[i], &out[i], &s);
		check_e2e(&s, topics[i], parts[i], &out[i]);
		snap_free(&s);
	}
	/* And nothing of the other's (all settled: the maps stand still). */
	snap_take(fa->pins, &s);
	only_own(&s, "A", topics, parts, 2);
	snap_free(&s);
	snap_take(fb->pins, &s);
	only_own(&s, "B", topics + 2, parts + 2, 2);
	snap_free(&s);

	/* procs: each daemon and its live client, none of the other's, and
	 * none of the clients gone (all of both instances' but the two). */
	wait_isolated(&sa, &sb, "two live clients");

	/* The kept clients go: each leaves its instance's procs. */
	t_procs_finish(&fx->kids[0], 2, tool_deadline(), r);
	for (int i = 0; i < 2; i++) {
		check_produced(&r[i], i ? &idle_b : &idle_a);
		t_res_free(&r[i]);
	}
	sa.live = sb.live = 0;
	wait_isolated(&sa, &sb, "every client gone");
	fa->passed = fb->passed = true;
}

/* ---- main ---------------------------------------------------------------- */

/*
 * Run in a mount namespace of our own with a fresh bpffs on /sys/fs/bpf
 * (mode 1777), inherited by the daemons and tools we start: whatever the
 * tests pin is invisible to the rest of the host, other daemons' pins do
 * not show here, and it all goes, probes detached, when the last of our
 * processes exits, even after a crash or the runner's SIGKILL.  The
 * probes themselves are kernel-wide: other processes running the same
 * binaries are counted too (hence the test's pid in topic names).
 * Without CAP_SYS_ADMIN, or with TEST_METRICS_HOST_BPFFS=1 (to look at
 * the pins from outside), the host's bpffs is used.
 */
static void private_bpffs(void)
{
	const char *why;

	errno = 0;
	if (getenv("TEST_METRICS_HOST_BPFFS"))
		why = "TEST_METRICS_HOST_BPFFS is set";
	else
		why = t_private_bpffs("mode=1777");
	if (why)
		printf("  on the host's bpffs: %s (%s)\n", why,
		       errno ? strerror(errno) : "");
	else
		printf("  on a private bpffs (mount namespace of pid %d)\n",
		       (int)getpid());
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	/* unprivileged first: the one that wants no SFM_BPFFS_ROOT yet. */
	const struct CMUnitTest tests[] = {
		T(test_unprivileged),
		T(test_exact_totals),
		T(test_restart),
		T(test_no_bpf),
		T(test_delete),
		cmocka_unit_test_setup_teardown(test_two_instances, fx2_setup,
						fx2_teardown),
	};
	const char *why = t_bpf_missing(g_bpftool, sizeof(g_bpftool));

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (why) {
		fprintf(stderr, "*** SKIP: test_metrics: %s ***\n", why);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN); /* a tool that exits early closes stdin */
	private_bpffs();
	return T_RUN_ONLY("test_metrics", "TEST_METRICS_ONLY", tests);
}
