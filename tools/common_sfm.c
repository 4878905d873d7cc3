// SPDX-License-Identifier: MIT
/*
 * common_sfm.c - reading sfshmd's BPF metrics maps and the daemon's view
 * of topics and groups, for sftop and `sfctl metrics` (see common_sfm.h).
 *
 * The maps are hash maps read entry by entry with bpf(2)
 * (BPF_MAP_GET_NEXT_KEY, BPF_MAP_LOOKUP_ELEM) while BPF programs keep
 * adding to them, so a snapshot is not atomic: each counter is read once,
 * at some moment during the walk.  The walk copes with entries deleted
 * under it (a topic deleted: the kernel then starts the walk over, so an
 * entry may come twice and is kept once) and is bounded, so that a map
 * churning without end cannot keep it going.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common_sfm.h"
#include "sftool.h"

/* ---- where the maps are ------------------------------------------------- */

/* sfshmd cuts a derived instance name to this (SFD_INSTANCE_MAX). */
#define SFM_INSTANCE_MAX 64

static bool instance_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* [*start, *end) of the last component of @path, trailing '/' left out. */
static void last_component(const char *path, size_t *start, size_t *end)
{
	size_t e = strlen(path), s;

	while (e > 0 && path[e - 1] == '/')
		e--;
	s = e;
	while (s > 0 && path[s - 1] != '/')
		s--;
	*start = s;
	*end = e;
}

int sfm_instance_name(const char *run_dir, char *buf, size_t len)
{
	const char *rd = sft_run_dir(run_dir);
	size_t s, e, n = 0;

	last_component(rd, &s, &e);
	if (e - s > SFM_INSTANCE_MAX)
		e = s + SFM_INSTANCE_MAX;
	if (e - s + 1 > len || len < 3)
		return -ENAMETOOLONG;
	for (size_t i = s; i < e; i++)
		buf[n++] = instance_char(rd[i]) ? rd[i] : '_';
	buf[n] = '\0';
	/* "", "." and ".." would name the root or its parent: "_", "__". */
	if (!n || !strcmp(buf, ".") || !strcmp(buf, "..")) {
		n = n ? n : 1;
		memset(buf, '_', n);
		buf[n] = '\0';
	}
	return 0;
}

static bool instance_valid(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

int sfm_dir(const char *bpf_dir, const char *instance, const char *run_dir,
	    char *buf, size_t len)
{
	char name[NAME_MAX + 1];
	int n, err;

	if (bpf_dir) {
		n = snprintf(buf, len, "%s", bpf_dir);
	} else if (instance) {
		if (!instance_valid(instance))
			return -EINVAL;
		n = snprintf(buf, len, SFM_BPFFS_ROOT "/%s", instance);
	} else {
		err = sfm_instance_name(run_dir, name, sizeof(name));
		if (err)
			return err;
		n = snprintf(buf, len, SFM_BPFFS_ROOT "/%s", name);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const char *sfm_strerror(int err, const char *dir, char *buf, size_t len)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
		snprintf(buf, len,
			 "no metrics at %s: is sfshmd running with metrics "
			 "on (not --no-bpf, as root)?",
			 dir);
		break;
	case -EPERM:
	case -EACCES:
		snprintf(buf, len, "reading %s needs root (CAP_BPF)", dir);
		break;
	case -EPROTO:
		snprintf(buf, len,
			 "%s: the maps' layout is not this tool's (sfshmd "
			 "and the tools come from different versions?)",
			 dir);
		break;
	default:
		snprintf(buf, len, "%s: %s", dir, strerror(-err));
	}
	return buf;
}

/* ---- reading a map ------------------------------------------------------ */

/* A map's key and value, and where they go in an array entry. */
struct map_desc {
	const char *name;
	size_t key_size, value_size;
	size_t value_off, entry_size;
};

static const struct map_desc stats_desc = {
	SFM_MAP_STATS,
	sizeof(struct sfm_tp),
	sizeof(struct sfm_stats),
	offsetof(struct sfm_stats_entry, s),
	sizeof(struct sfm_stats_entry),
};

static const struct map_desc hist_desc = {
	SFM_MAP_HIST,
	sizeof(struct sfm_hist_key),
	sizeof(struct sfm_hist),
	offsetof(struct sfm_hist_entry, h),
	sizeof(struct sfm_hist_entry),
};

/* Walk at most this many keys: entries deleted under us restart it. */
#define WALK_MAX (4 * SFM_MAX_TP)
#define KEY_MAX 512

_Static_assert(sizeof(struct sfm_hist_key) <= KEY_MAX, "KEY_MAX too small");
_Static_assert(sizeof(struct sfm_tp) <= KEY_MAX, "KEY_MAX too small");

/* A growing array of map entries. */
struct vec {
	char *p;
	size_t n, cap;
};

static void *vec_push(struct vec *v, size_t size)
{
	char *p;

	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 64;
		p = realloc(v->p, v->cap * size);
		if (!p)
			return NULL;
		v->p = p;
	}
	memset(v->p + v->n * size, 0, size);
	return v->p + v->n++ * size;
}

static int map_open(const char *dir, const char *name, int *fd)
{
	char path[PATH_MAX];
	int r, n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	r = bpf_obj_get(path);
	if (r < 0)
		return errno ? -errno : r;
	*fd = r;
	return 0;
}

/* Is the map at @fd laid out as @md says (one definition: sfm.h)? */
static int map_check(int fd, const struct map_desc *md)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.key_size != md->key_size || info.value_size != md->value_size)
		return -EPROTO;
	return 0;
}

/* Append the entry of @key; one deleted meanwhile is left out. */
static int walk_one(int fd, const struct map_desc *md, const void *key,
		    struct vec *v)
{
	char *e = vec_push(v, md->entry_size);
	int err;

	if (!e)
		return -ENOMEM;
	memcpy(e, key, md->key_size);
	err = bpf_map_lookup_elem(fd, key, e + md->value_off);
	if (err == -ENOENT)
		v->n--;
	return err == -ENOENT ? 0 : err;
}

static int map_walk(int fd, const struct map_desc *md, struct vec *v)
{
	char key[KEY_MAX], next[KEY_MAX];
	const void *prev = NULL;
	int err = 0;

	for (unsigned i = 0; i < WALK_MAX; i++) {
		err = bpf_map_get_next_key(fd, prev, next);
		if (err)
			break;
		err = walk_one(fd, md, next, v);
		if (err)
			return err;
		memcpy(key, next, md->key_size);
		prev = key;
	}
	return err == -ENOENT ? 0 : err;
}

static int map_read(const char *dir, const struct map_desc *md, struct vec *v)
{
	int fd, err = map_open(dir, md->name, &fd);

	if (err)
		return err;
	err = map_check(fd, md);
	if (!err)
		err = map_walk(fd, md, v);
	close(fd);
	return err;
}

/* ---- snapshots ---------------------------------------------------------- */

/* Keys come from the kernel: make the topic a C string whatever it holds. */
static void terminate(char *topic)
{
	topic[SFM_TOPIC_LEN - 1] = '\0';
}

static int tp_cmp(const char *ta, uint32_t pa, const char *tb, uint32_t pb)
{
	int c = strcmp(ta, tb);

	return c ? c : (pa > pb) - (pa < pb);
}

static int stats_cmp(const void *a, const void *b)
{
	const struct sfm_tp *x = a, *y = b;

	return tp_cmp(x->topic, x->partition, y->topic, y->partition);
}

static int hist_cmp(const void *a, const void *b)
{
	const struct sfm_hist_key *x = a, *y = b;
	int c = tp_cmp(x->topic, x->partition, y->topic, y->partition);

	return c ? c : (x->kind > y->kind) - (x->kind < y->kind);
}

/* Sort, keeping one of entries that came twice.  Return: the count. */
static size_t sort_unique(void *base, size_t n, size_t size,
			  int (*cmp)(const void *, const void *))
{
	char *p = base;
	size_t out = 0;

	if (n > 1) /* base may be NULL when empty */
		qsort(base, n, size, cmp);
	for (size_t i = 0; i < n; i++) {
		if (out && !cmp(p + (out - 1) * size, p + i * size))
			out--;
		if (out != i)
			memcpy(p + out * size, p + i * size, size);
		out++;
	}
	return out;
}

static void snap_finish(struct sfm_snap *snap)
{
	for (size_t i = 0; i < snap->nstats; i++)
		terminate(snap->stats[i].tp.topic);
	for (size_t i = 0; i < snap->nhists; i++)
		terminate(snap->hists[i].key.topic);
	snap->nstats = sort_unique(snap->stats, snap->nstats,
				   sizeof(*snap->stats), stats_cmp);
	snap->nhists = sort_unique(snap->hists, snap->nhists,
				   sizeof(*snap->hists), hist_cmp);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sfm_snap_read(const char *dir, struct sfm_snap *snap)
{
	struct vec st = { 0 }, hi = { 0 };
	int err;

	memset(snap, 0, sizeof(*snap));
	snap->mono_ns = mono_ns();
	err = map_read(dir, &stats_desc, &st);
	if (!err) {
		err = map_read(dir, &hist_desc, &hi);
		if (err == -ENOENT) /* no latency map: no histograms */
			err = 0;
	}
	snap->stats = (struct sfm_stats_entry *)st.p;
	snap->nstats = st.n;
	snap->hists = (struct sfm_hist_entry *)hi.p;
	snap->nhists = hi.n;
	if (err) {
		sfm_snap_free(snap);
		return err;
	}
	snap_finish(snap);
	return 0;
}

void sfm_snap_free(struct sfm_snap *snap)
{
	free(snap->stats);
	free(snap->hists);
	memset(snap, 0, sizeof(*snap));
}

const struct sfm_stats *sfm_snap_stats(const struct sfm_snap *snap,
				       const char *topic, uint32_t partition)
{
	struct sfm_stats_entry key, *e;

	if (strlen(topic) >= SFM_TOPIC_LEN || !snap->nstats)
		return NULL;
	memset(&key, 0, sizeof(key));
	strcpy(key.tp.topic, topic);
	key.tp.partition = partition;
	e = bsearch(&key, snap->stats, snap->nstats, sizeof(*e), stats_cmp);
	return e ? &e->s : NULL;
}

const struct sfm_hist *sfm_snap_hist(const struct sfm_snap *snap,
				     const char *topic, uint32_t partition,
				     uint32_t kind)
{
	struct sfm_hist_entry key, *e;

	if (strlen(topic) >= SFM_TOPIC_LEN || !snap->nhists)
		return NULL;
	memset(&key, 0, sizeof(key));
	strcpy(key.key.topic, topic);
	key.key.partition = partition;
	key.key.kind = kind;
	e = bsearch(&key, snap->hists, snap->nhists, sizeof(*e), hist_cmp);
	return e ? &e->h : NULL;
}

/* ---- rates and percentiles ---------------------------------------------- */

static uint64_t grew(uint64_t prev, uint64_t cur)
{
	return cur >= prev ? cur - prev : cur;
}

void sfm_stats_delta(const struct sfm_stats *prev, const struct sfm_stats *cur,
		     struct sfm_stats *out)
{
	/* struct sfm_stats is nothing but __u64 counters. */
	const __u64 *p = (const __u64 *)prev, *c = (const __u64 *)cur;
	__u64 *o = (__u64 *)out;
	size_t n = sizeof(*cur) / sizeof(__u64);

	_Static_assert(sizeof(struct sfm_stats) % sizeof(__u64) == 0,
		       "struct sfm_stats holds __u64 counters only");
	for (size_t i = 0; i < n; i++)
		o[i] = grew(p ? p[i] : 0, c[i]);
}

void sfm_hist_delta(const struct sfm_hist *prev, const struct sfm_hist *cur,
		    struct sfm_hist *out)
{
	static const struct sfm_hist zero;
	bool reset;

	if (!prev)
		prev = &zero;
	/* Fewer values than before: deleted and created again. */
	reset = cur->count < prev->count;
	out->count = reset ? cur->count : cur->count - prev->count;
	out->sum_ns = reset ? cur->sum_ns : grew(prev->sum_ns, cur->sum_ns);
	out->max_ns = cur->max_ns;
	for (unsigned i = 0; i < SFM_HIST_SLOTS; i++)
		out->slot[i] = reset ? cur->slot[i] :
				       grew(prev->slot[i], cur->slot[i]);
}

double sfm_per_sec(uint64_t delta, uint64_t ns)
{
	return ns ? (double)delta * 1e9 / (double)ns : 0;
}

uint64_t sfm_hist_total(const struct sfm_hist *h)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < SFM_HIST_SLOTS; i++)
		n += h->slot[i];
	return n;
}

uint64_t sfm_hist_le_ns(unsigned slot)
{
	if (slot >= SFM_HIST_SLOTS - 1)
		return UINT64_MAX;
	return (2ull << slot) - 1;
}

/*
 * The range [lo, hi) of slot @i in ns.  Slot 0 also takes 0; the last
 * slot has no upper end: the largest value seen, or twice its start, has
 * to do.
 */
static void slot_range(const struct sfm_hist *h, unsigned i, double *lo,
		       double *hi)
{
	*lo = i ? (double)(1ull << i) : 0;
	*hi = (double)(2ull << i);
	if (i == SFM_HIST_SLOTS - 1 && (double)h->max_ns > *lo)
		*hi = (double)h->max_ns;
}

/*
 * A log2 histogram says only in which power-of-two range each value lies.
 * The estimate finds the slot holding the @q-th value and interpolates
 * linearly inside it, as if the slot's values were spread evenly over its
 * range: the answer is within the right slot (so within a factor of two),
 * and no more exact than that.  It is kept at or below the largest value
 * seen (max_ns) where that lies in the same slot.
 */
double sfm_hist_pct(const struct sfm_hist *h, double q)
{
	uint64_t total = sfm_hist_total(h), seen = 0;
	double rank, lo, hi, v;
	unsigned i;

	if (!total)
		return -1;
	rank = (q < 0 ? 0 : q > 1 ? 1 : q) * (double)total;
	for (i = 0; i < SFM_HIST_SLOTS - 1; i++) {
		if (h->slot[i] && (double)(seen + h->slot[i]) >= rank)
			break;
		seen += h->slot[i];
	}
	slot_range(h, i, &lo, &hi);
	v = lo + (hi - lo) * (rank - (double)seen) / (double)h->slot[i];
	if (h->max_ns && (double)h->max_ns >= lo && v > (double)h->max_ns)
		v = (double)h->max_ns;
	return v;
}

const char *sfm_fmt_ns(char *buf, size_t len, double ns)
{
	static const struct {
		double below, div;
		const char *fmt;
	} f[] = {
		{ 1e3, 1, "%.0fns" },	 { 1e4, 1e3, "%.2fus" },
		{ 1e6, 1e3, "%.1fus" },	 { 1e7, 1e6, "%.2fms" },
		{ 1e9, 1e6, "%.1fms" },	 { 1e10, 1e9, "%.2fs" },
		{ 1e300, 1e9, "%.1fs" },
	};
	size_t i = 0;

	if (ns < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	while (i + 1 < sizeof(f) / sizeof(f[0]) && ns >= f[i].below)
		i++;
	snprintf(buf, len, f[i].fmt, ns / f[i].div);
	return buf;
}

/* ---- what the daemon knows ---------------------------------------------- */

/* Add @name's partition count; a topic deleted meanwhile is left out. */
static int add_topic(struct sfshm_client *c, const char *name,
		     struct sfm_daemon *d)
{
	struct sfshm_topic_info *ti;
	struct sfm_topic *t;
	int err = sfshm_topic_describe(c, name, &ti);

	if (err)
		return err == -ENOENT ? 0 : err;
	t = &d->topics[d->ntopics++];
	snprintf(t->name, sizeof(t->name), "%s", ti->name);
	t->partitions = ti->partition_count;
	d->partitions += ti->partition_count;
	sfshm_topic_info_free(ti);
	return 0;
}

static int read_topics(struct sfshm_client *c, const char *only,
		       struct sfm_daemon *d)
{
	char **names;
	int err = 0, n = sfshm_topic_list(c, &names);

	if (n < 0)
		return n;
	d->topics = calloc(n ? (size_t)n : 1, sizeof(*d->topics));
	if (!d->topics)
		err = -ENOMEM;
	for (int i = 0; i < n && !err; i++)
		if (!only || !strcmp(only, names[i]))
			err = add_topic(c, names[i], d);
	sfshm_free_list(names);
	return err;
}

static struct sfm_lag *push_lag(struct sfm_daemon *d, size_t *cap)
{
	struct sfm_lag *p;

	if (d->nlags == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		p = realloc(d->lags, *cap * sizeof(*p));
		if (!p)
			return NULL;
		d->lags = p;
	}
	return &d->lags[d->nlags++];
}

/* The lags of one group's committed offsets (of @only if given). */
static int add_lags(const struct sfshm_group_description *gd, const char *only,
		    struct sfm_daemon *d, size_t *cap)
{
	for (unsigned i = 0; i < gd->noffsets; i++) {
		const struct sfshm_group_offset *o = &gd->offsets[i];
		struct sfm_lag *l;

		if (o->committed < 0 || o->log_end < 0 ||
		    (only && strcmp(only, o->topic)))
			continue;
		l = push_lag(d, cap);
		if (!l)
			return -ENOMEM;
		snprintf(l->group, sizeof(l->group), "%s", gd->info.group);
		snprintf(l->topic, sizeof(l->topic), "%s", o->topic);
		l->partition = o->partition;
		/* A commit past the end (a reset) is no negative lag. */
		l->lag = o->log_end > o->committed ? o->log_end - o->committed :
						     0;
	}
	return 0;
}

static int read_groups(struct sfshm_client *c, const char *only,
		       struct sfm_daemon *d)
{
	struct sfshm_group_description *gd;
	struct sfshm_group_info *gi;
	size_t cap = 0;
	int err = 0, n = sfshm_group_list(c, &gi);

	if (n < 0)
		return n;
	d->ngroups = (size_t)n;
	for (int i = 0; i < n && !err; i++) {
		err = sfshm_group_describe(c, gi[i].group, &gd);
		if (err == -ENOENT) { /* gone meanwhile */
			err = 0;
			continue;
		}
		if (!err)
			err = add_lags(gd, only, d, &cap);
		sfshm_group_description_free(gd);
	}
	free(gi);
	return err;
}

static int lag_cmp(const void *a, const void *b)
{
	const struct sfm_lag *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	return c ? c :
		   tp_cmp(x->topic, (uint32_t)x->partition, y->topic,
			  (uint32_t)y->partition);
}

int sfm_daemon_read(struct sfshm_client *c, const char *topic,
		    struct sfm_daemon *d)
{
	int err;

	memset(d, 0, sizeof(*d));
	err = read_topics(c, topic, d);
	if (!err)
		err = read_groups(c, topic, d);
	if (err) {
		sfm_daemon_free(d);
		return err;
	}
	if (d->nlags)
		qsort(d->lags, d->nlags, sizeof(*d->lags), lag_cmp);
	return 0;
}

void sfm_daemon_free(struct sfm_daemon *d)
{
	free(d->topics);
	free(d->lags);
	memset(d, 0, sizeof(*d));
}

int64_t sfm_daemon_max_lag(const struct sfm_daemon *d, const char *topic,
			   int32_t partition)
{
	int64_t max = -1;

	for (size_t i = 0; i < d->nlags; i++)
		if (d->lags[i].partition == partition && d->lags[i].lag > max &&
		    !strcmp(d->lags[i].topic, topic))
			max = d->lags[i].lag;
	return max;
}
