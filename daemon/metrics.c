// SPDX-License-Identifier: MIT
/*
 * metrics.c - loading and attaching the BPF metrics (bpf/sfm.bpf.c).
 *
 * Where things live, under /sys/fs/bpf/sfshm/<instance>/:
 *   topic_stats, topic_latency, ring_addrs,  the maps (bpf/sfm.h), pinned
 *   binaries, procs, version                 by libbpf (pin_root_path).
 *   links/futex, links/futex_waitv           the two tracepoint links.
 *   links/<dev>-<ino>-<mtime>/<n>            the uprobe links of the USDT
 *                                            probes of one binary.
 *   links/tmp-<dev>-<ino>-<mtime>/<n>        the same while being pinned.
 *
 * Everything pinned outlives the daemon: the programs keep counting while
 * it restarts, and the next daemon of the instance finds the pinned maps
 * (libbpf reuses them), sees which binaries are attached already and
 * attaches only new ones, so nothing is counted twice.  Pins of another
 * build of the BPF object (the version map) are all replaced instead.
 * Removing the instance directory (rm -r) detaches everything.
 *
 * Which processes: a uprobe fires in every process running the binary,
 * whatever daemon it talks to; the programs count only the pids in the
 * procs map, which the daemon keeps: itself, and each client from its
 * connection to its disconnection.
 *
 * A pid alone can be reused: each entry holds the process's start time,
 * and entries whose process is gone or whose pid now names another one
 * are dropped (at start, and at most once a second as clients connect).
 *
 * Which binaries: sfshmd's own (libsfshm is linked in, so it has both
 * providers), and those of the clients that connect, found through
 * /proc/<pid>/exe and the libsfshm.so the client maps.  Attaching happens
 * when the connection is accepted, before the client's first request is
 * answered, so a client's probes are live before it can send anything.
 * Any local user may connect, so only files that root (or our euid) owns
 * and that no one else may write are attached, at most MAX_HELD of them
 * per daemon: each costs fds, argument specs and kernel uprobes.  A
 * binary without our probes is remembered and not looked at again.
 *
 * libbpf 1.1 cannot pin a USDT link (bpf_link__pin() gives -EINVAL): a
 * USDT link is a set of uprobe links, one per probe site, each its own
 * kernel link with an fd.  We find those fds in /proc/self/fd (the new
 * anon_inode:bpf_link entries) and pin them with bpf_obj_pin().  The
 * libbpf link objects are kept while their binary is attached: destroying
 * one removes its argument specs from the programs' spec map, which the
 * pinned links go on using after we exit.  When the binary is detached
 * (replaced), its links are unpinned first, then destroyed: our fds are
 * the last references, and closing them takes the probes off.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "metrics.h"
#include "sfd.h"
#include "sfm.h"
#include "sfm.skel.h"
#include "sfshm_int.h"

#define BPFFS "/sys/fs/bpf"
#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing/events"
#define MAX_HELD 64 /* binaries one daemon attaches (see held_new()) */
#define PRUNE_EVERY_NS 1000000000ull /* procs pruned at most this often */
#define MAX_WALK (4 * SFM_MAX_TP) /* keys read per map walk, at most */
#define SFD_CAP_PERFMON 38 /* linux/capability.h of kernels >= 5.8 */
#define SFD_CAP_BPF 39

/* The USDT programs and the probe each one reads. */
static const struct usdt_prog {
	const char *prog, *provider, *probe;
} usdt_progs[] = {
	{ "sfshm_ring_map", "sfshm", "ring_map" },
	{ "sfshm_consume", "sfshm", "consume" },
	{ "sfshm_e2e", "sfshm", "e2e" },
	{ "sfshm_backpressure", "sfshm", "backpressure" },
	{ "sfshm_error", "sfshm", "error" },
	{ "sfshmd_persist", "sfshmd", "persist" },
	{ "sfshmd_fsync", "sfshmd", "fsync" },
	{ "sfshmd_error", "sfshmd", "error" },
};

#define NPROGS (sizeof(usdt_progs) / sizeof(usdt_progs[0]))

/* A binary looked at: attached, refused, or without our probes. */
struct seen {
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
};

/* The USDT links this daemon made for one binary (see the top). */
struct held {
	struct sfm_bin_key k;
	struct bpf_link *links[NPROGS];
	int n;
};

static struct {
	struct sfm_bpf *skel;
	char dir[96]; /* SFM_BPFFS_ROOT/<instance of at most 64> */
	struct seen *seen;
	size_t nseen, seen_cap;
	struct held held[MAX_HELD];
	size_t nheld;
	bool held_full; /* said once */
	struct bpf_link *tp_links[2]; /* the tracepoints': kept until exit */
	uint64_t procs_pruned_ns;
	char refused[128]; /* a directory check_dir() refused, */
	uid_t refused_uid; /* and its owner */
} M;

/* libbpf's messages: warnings and above at debug level, with a prefix. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	sfd_debug("metrics", "libbpf: %s", line);
	return 0;
}

/* ---- file systems -------------------------------------------------------- */

static bool fs_is(const char *path, unsigned long magic)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == magic;
}

/* Mount @type on @path unless it is there.  Return: 0 or -errno. */
static int fs_ensure(const char *path, unsigned long magic, const char *type)
{
	if (fs_is(path, magic))
		return 0;
	if (mount(type, path, type, 0, NULL) < 0)
		return -errno;
	sfd_info("metrics", "mounted %s on %s", type, path);
	return 0;
}

static int mkdir_one(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

/*
 * A directory we pin into must be ours and writable by us alone: anyone
 * who could rename or unlink in it could swap the maps the tools read,
 * or drop our links.
 */
static int check_dir(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(M.refused, sizeof(M.refused), "%s", path);
		M.refused_uid = st.st_uid;
		return -EPERM;
	}
	return 0;
}

static int mkdir_checked(const char *path)
{
	int err = mkdir_one(path);

	return err ? err : check_dir(path);
}

/* The instance directory and its links/ directory. */
static int make_dirs(void)
{
	char path[128];
	int err = mkdir_checked(SFM_BPFFS_ROOT);

	if (!err)
		err = mkdir_checked(M.dir);
	snprintf(path, sizeof(path), "%s/links", M.dir);
	return err ? err : mkdir_checked(path);
}

/* Undo make_dirs() where nothing was pinned (rmdir takes empty ones). */
static void remove_dirs(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/links", M.dir);
	rmdir(path);
	rmdir(M.dir);
	rmdir(SFM_BPFFS_ROOT);
}

/*
 * May this process load and attach the programs?  Checked before any
 * directory is made, so that an unprivileged daemon leaves nothing
 * behind in a world-writable bpffs.
 */
static bool may_bpf(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint64_t eff;

	if (syscall(SYS_capget, &h, d))
		return true; /* cannot tell: let the load say */
	eff = (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
	if (eff & (1ull << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ull << SFD_CAP_BPF)) &&
	       (eff & (1ull << SFD_CAP_PERFMON));
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* ---- link fds ------------------------------------------------------------ */

static bool is_link_fd(int fd)
{
	char p[64], target[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:bpf_link") == 0;
}

/* A set of fds, sorted once filled. */
struct fdset {
	int *fd;
	size_t n, cap;
};

static int fdset_add(struct fdset *s, int fd)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		int *v = realloc(s->fd, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->fd = v;
		s->cap = cap;
	}
	s->fd[s->n++] = fd;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool fdset_has(const struct fdset *s, int fd)
{
	return s->n && bsearch(&fd, s->fd, s->n, sizeof(*s->fd), cmp_int);
}

/*
 * Every bpf_link fd open now, into @s, however many: the links of all
 * the binaries we hold.  Return: 0 or -errno (then @s tells nothing, and
 * the attach must fail rather than pin nothing).
 */
static int link_fds(struct fdset *s)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int err = 0;

	s->n = 0;
	if (!d)
		return -errno;
	while (!err && (e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (fd > 2 && fd != dirfd(d) && is_link_fd(fd))
			err = fdset_add(s, fd);
	}
	closedir(d);
	if (s->n)
		qsort(s->fd, s->n, sizeof(*s->fd), cmp_int);
	return err;
}

/*
 * Pin the link fds in @after but not in @before as @dir/0, @dir/1...
 * Return: how many, or -errno.
 */
static int pin_new(const struct fdset *before, const struct fdset *after,
		   const char *dir)
{
	char path[256];
	int n = 0;

	for (size_t i = 0; i < after->n; i++) {
		if (fdset_has(before, after->fd[i]))
			continue;
		snprintf(path, sizeof(path), "%s/%d", dir, n++);
		if (bpf_obj_pin(after->fd[i], path))
			return -errno;
	}
	return n;
}

/* ---- the binaries this daemon holds links of ----------------------------- */

/*
 * A slot for the links of binary @k (@name in logs), NULL when this
 * daemon holds MAX_HELD binaries already (said once).  Each binary costs
 * an fd and an argument spec per probe site, and libbpf 1.1 frees twice
 * (and we crash) when the programs' BPF_USDT_MAX_SPEC_CNT specs run out.
 */
static struct held *held_new(const struct sfm_bin_key *k, const char *name)
{
	struct held *h;

	if (M.nheld == MAX_HELD) {
		if (!M.held_full)
			sfd_warn("metrics", 0,
				 "not attaching to %s, nor to any further "
				 "binary: this daemon holds %d already",
				 name, MAX_HELD);
		M.held_full = true;
		return NULL;
	}
	h = &M.held[M.nheld++];
	*h = (struct held){ .k = *k };
	return h;
}

/*
 * Destroy the links this daemon made for binary @k, if any, and free its
 * slot.  Call it after unpinning them: our fds are then the last
 * references, and closing them takes the probes off.
 */
static void held_drop(const struct sfm_bin_key *k)
{
	for (size_t i = 0; i < M.nheld; i++) {
		struct held *h = &M.held[i];

		if (memcmp(&h->k, k, sizeof(*k)))
			continue;
		for (int j = 0; j < h->n; j++)
			bpf_link__destroy(h->links[j]);
		*h = M.held[--M.nheld];
		return;
	}
}

/* ---- attaching ----------------------------------------------------------- */

/* The tracepoint @tp of syscalls/ through @prog, pinned as links/@name. */
static void attach_tracepoint(struct bpf_program *prog, const char *tp,
			      const char *name, struct bpf_link **keep)
{
	char path[160];
	struct bpf_link *l;

	snprintf(path, sizeof(path), "%s/links/%s", M.dir, name);
	if (exists(path))
		return; /* an earlier daemon's link counts on */
	l = bpf_program__attach_tracepoint(prog, "syscalls", tp);
	if (!l) {
		sfd_warn("metrics", -errno,
			 "cannot attach to syscalls:%s: no futex counts", tp);
		return;
	}
	if (bpf_link__pin(l, path))
		sfd_warn("metrics", -errno, "cannot pin %s", path);
	*keep = l;
}

/*
 * Attach every USDT program to @path (@name in logs), the links into @h.
 * Return: links made (0: none of our probes is there), or -errno.
 */
static int attach_usdt_all(const char *path, const char *name, struct held *h)
{
	for (size_t i = 0; i < NPROGS; i++) {
		const struct usdt_prog *u = &usdt_progs[i];
		struct bpf_program *prog =
			bpf_object__find_program_by_name(M.skel->obj, u->prog);
		struct bpf_link *l;

		if (!prog)
			return -ENOENT;
		l = bpf_program__attach_usdt(prog, -1, path, u->provider,
					     u->probe, NULL);
		if (l)
			h->links[h->n++] = l;
		else if (errno != ENOENT) /* ENOENT: no such probe there */
			sfd_warn("metrics", -errno,
				 "cannot attach to %s:%s in %s", u->provider,
				 u->probe, name);
	}
	return h->n;
}

static struct sfm_bin_key bin_key(const struct stat *st)
{
	return (struct sfm_bin_key){
		.dev = st->st_dev,
		.ino = st->st_ino,
		.mtime_ns = (__u64)st->st_mtim.tv_sec * 1000000000ull +
			    (__u64)st->st_mtim.tv_nsec,
	};
}

/*
 * links/<dev>-<ino>-<mtime>: where a binary's links are pinned; with
 * @prefix "tmp-", where they are pinned until complete (bpffs refuses
 * names with a dot).
 */
static void bin_dir(char *buf, size_t len, const struct sfm_bin_key *k,
		    const char *prefix)
{
	snprintf(buf, len, "%s/links/%s%llx-%llx-%llx", M.dir, prefix,
		 (unsigned long long)k->dev, (unsigned long long)k->ino,
		 (unsigned long long)k->mtime_ns);
}

static int bins_fd(void)
{
	return bpf_map__fd(M.skel->maps.binaries);
}

static int bin_record(const struct sfm_bin_key *k, const char *name, int sites,
		      pid_t pid)
{
	struct sfm_bin b = { .sites = (__u32)sites, .pid = (__u32)pid };

	size_t n = strlen(name);

	/* a longer path is cut (and never pruned: see bin_current()) */
	memcpy(b.path, name, n < sizeof(b.path) ? n : sizeof(b.path) - 1);
	return bpf_map_update_elem(bins_fd(), k, &b, BPF_ANY) ? -errno : 0;
}

/* Unpin every link in @dir and remove it. */
static void unpin_dir(const char *dir)
{
	char path[512];
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Is the file at @b's path still the binary @k names? */
static bool bin_current(const struct sfm_bin_key *k, const struct sfm_bin *b)
{
	struct sfm_bin_key now;
	struct stat st;

	if (strnlen(b->path, sizeof(b->path)) == sizeof(b->path) - 1)
		return true; /* cut: cannot tell */
	if (stat(b->path, &st))
		return false;
	now = bin_key(&st);
	return !memcmp(&now, k, sizeof(now));
}

/* Unpin binary @k's links, destroy ours, forget it. */
static void bin_detach(const struct sfm_bin_key *k, const char *path)
{
	char dir[224];

	bin_dir(dir, sizeof(dir), k, "");
	unpin_dir(dir);
	held_drop(k);
	bpf_map_delete_elem(bins_fd(), k);
	sfd_info("metrics", "detached from %s: replaced or removed", path);
}

/*
 * The keys of map @fd (each @size bytes), read before any change, into
 * *@out (to free).  Callers then look up and delete as they like: a walk
 * with bpf_map_get_next_key() that deletes as it goes loses its place.
 * Return: how many (fewer if memory ran out).
 */
static size_t map_keys(int fd, size_t size, void **out)
{
	unsigned char *v = NULL, *w;
	size_t n = 0, cap = 0;

	/* bounded: a key evicted meanwhile (LRU) restarts the walk */
	while (n < MAX_WALK) {
		if (n == cap) {
			w = realloc(v, (cap + 64) * size);
			if (!w)
				break;
			v = w;
			cap += 64;
		}
		if (bpf_map_get_next_key(fd, n ? v + (n - 1) * size : NULL,
					 v + n * size))
			break;
		n++;
	}
	*out = v;
	return n;
}

/*
 * Detach from the other versions of @k's inode (a file rewritten in place,
 * or touched): each version's links are on the same probe sites, which
 * must not count twice.
 */
static void prune_inode(const struct sfm_bin_key *k)
{
	struct sfm_bin_key *keys;
	size_t n = map_keys(bins_fd(), sizeof(*keys), (void **)&keys);
	struct sfm_bin b;

	for (size_t i = 0; i < n; i++) {
		if (keys[i].dev != k->dev || keys[i].ino != k->ino ||
		    !memcmp(&keys[i], k, sizeof(*k)) ||
		    bpf_map_lookup_elem(bins_fd(), &keys[i], &b))
			continue;
		bin_detach(&keys[i], b.path);
	}
	free(keys);
}

/* A binaries entry whose path names another file now, or none. */
struct stale {
	struct sfm_bin_key k;
	struct sfm_bin b;
	bool mapped; /* a live process maps its file */
};

/* The stale entries of the binaries map, into *@out (to free). */
static size_t stale_find(struct stale **out)
{
	struct sfm_bin_key *keys;
	size_t nk = map_keys(bins_fd(), sizeof(*keys), (void **)&keys);
	struct stale *v = calloc(nk ? nk : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < nk; i++) {
		v[n].k = keys[i];
		if (!bpf_map_lookup_elem(bins_fd(), &keys[i], &v[n].b) &&
		    !bin_current(&v[n].k, &v[n].b))
			n++;
	}
	free(keys);
	*out = v;
	return v ? n : 0;
}

/* Mark the entries of @v whose file @pid maps (device and inode). */
static void maps_mark(const char *pid, struct stale *v, size_t n)
{
	char path[64], *line = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%.16s/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &len, f) > 0) {
		unsigned int maj, min;
		unsigned long long ino;

		/* "start-end perms offset maj:min inode path" (hex dev) */
		if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) !=
			    3 ||
		    !ino)
			continue;
		for (size_t i = 0; i < n; i++)
			if (v[i].k.ino == ino && major(v[i].k.dev) == maj &&
			    minor(v[i].k.dev) == min)
				v[i].mapped = true;
	}
	free(line);
	fclose(f);
}

/* Mark the entries of @v whose file any live process maps. */
static void mark_mapped(struct stale *v, size_t n)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			maps_mark(e->d_name, v, n);
	if (d)
		closedir(d);
}

/*
 * At start: detach from binaries replaced (rebuilt, upgraded) or removed
 * since they were attached, unless a live process still maps the old
 * file: an upgrade leaves the running processes on it, and their probes
 * must count on.  A new file at the path is attached when its first
 * process connects.
 */
static void prune_stale(void)
{
	struct stale *v;
	size_t n = stale_find(&v);

	if (n)
		mark_mapped(v, n);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].mapped)
			bin_detach(&v[i].k, v[i].b.path);
		else
			sfd_info("metrics",
				 "keeping %s attached: replaced or removed, "
				 "but running processes map the old file",
				 v[i].b.path);
	}
	free(v);
}

/*
 * Remove what a daemon left that failed or died while attaching: the
 * links/tmp-* directories, never renamed, so never taken as attached.
 */
static void remove_partial(void)
{
	char links[160], sub[240];
	struct dirent *e;
	DIR *d;

	snprintf(links, sizeof(links), "%s/links", M.dir);
	d = opendir(links);
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "tmp-", 4))
			continue;
		snprintf(sub, sizeof(sub), "%s/%.64s", links, e->d_name);
		unpin_dir(sub);
	}
	if (d)
		closedir(d);
}

/*
 * Attach the USDT programs to @path into @h and pin the uprobe links that
 * appeared (one per probe site) in @dir.  Return: sites pinned (> 0),
 * -ENOENT if none of our probes is there, or -errno.
 */
static int attach_pin(const char *path, const char *name, struct held *h,
		      const char *dir)
{
	struct fdset before = { 0 }, after = { 0 };
	int err = link_fds(&before);

	if (!err) {
		err = attach_usdt_all(path, name, h);
		if (err == 0)
			err = -ENOENT; /* none of our probes there */
		else if (err > 0)
			err = link_fds(&after);
	}
	if (!err)
		err = mkdir_one(dir);
	if (!err)
		err = pin_new(&before, &after, dir);
	if (!err) /* links made, yet no new fd: never "0 probe sites" */
		err = -ENOLINK;
	free(before.fd);
	free(after.fd);
	return err;
}

/*
 * Record binary @k, then rename its links' directory @tmp to @dir: from
 * then on it counts as attached, complete.  Return: 0 or -errno.
 */
static int bin_commit(const struct sfm_bin_key *k, const char *name, int sites,
		      pid_t pid, const char *tmp, const char *dir)
{
	int err = bin_record(k, name, sites, pid);

	if (!err && rename(tmp, dir))
		err = -errno;
	if (err)
		bpf_map_delete_elem(bins_fd(), k);
	return err;
}

/*
 * Attach to the binary at @path (@name in logs and the binaries map, of
 * process @pid).  The links are pinned into links/tmp-<key>/, renamed to
 * links/<key>/ once complete: a failure or a crash half-way never leaves
 * a directory that says the binary is attached.
 * Return: 1 attached now, 0 attached before, -ENOENT no probes, -errno.
 */
static int attach_binary(const char *path, const char *name,
			 const struct stat *st, pid_t pid)
{
	struct sfm_bin_key k = bin_key(st);
	char dir[224], tmp[232];
	struct held *h;
	int sites;

	bin_dir(dir, sizeof(dir), &k, "");
	if (exists(dir))
		return 0;
	prune_inode(&k);
	h = held_new(&k, name);
	if (!h)
		return -ENOSPC;
	bin_dir(tmp, sizeof(tmp), &k, "tmp-");
	unpin_dir(tmp);
	sites = attach_pin(path, name, h, tmp);
	if (sites > 0) {
		int err = bin_commit(&k, name, sites, pid, tmp, dir);

		sites = err ? err : sites;
	}
	if (sites < 0) {
		unpin_dir(tmp);
		held_drop(&k);
		if (sites != -ENOENT)
			sfd_warn("metrics", sites, "cannot attach to %s", name);
		return sites;
	}
	sfd_info("metrics", "attached to %s: %d probe sites", name, sites);
	return 1;
}

static bool seen_before(const struct stat *st)
{
	int64_t mt =
		(int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;

	for (size_t i = 0; i < M.nseen; i++)
		if (M.seen[i].dev == st->st_dev &&
		    M.seen[i].ino == st->st_ino && M.seen[i].mtime_ns == mt)
			return true;
	if (M.nseen == M.seen_cap) {
		size_t cap = M.seen_cap ? 2 * M.seen_cap : 16;
		struct seen *v = realloc(M.seen, cap * sizeof(*v));

		if (!v)
			return false;
		M.seen = v;
		M.seen_cap = cap;
	}
	M.seen[M.nseen++] = (struct seen){ st->st_dev, st->st_ino, mt };
	return false;
}

/*
 * May a client's file be attached?  Any local user may connect, and
 * would otherwise have the root daemon attach to files of their making
 * (fds, argument specs and uprobes without end).  So, as sudo asks of
 * what it runs: a regular file that root or we own, that neither group
 * nor others may write.
 */
static bool trusted(const struct stat *st)
{
	return S_ISREG(st->st_mode) &&
	       (st->st_uid == 0 || st->st_uid == geteuid()) &&
	       !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/*
 * Attach to the file @path names (@name in logs) once per binary (by
 * inode and modification time).  It is opened with O_PATH and attached
 * through /proc/self/fd/<n>: what was checked is what is attached,
 * whatever becomes of @path meanwhile, and nothing a client names is
 * opened for reading (a FIFO, a device).  Our own binary we run already.
 */
static void attach_once(const char *path, const char *name, pid_t pid)
{
	char fdpath[32];
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) || seen_before(&st)) {
		close(fd);
		return;
	}
	if (pid == getpid() || trusted(&st)) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		attach_binary(fdpath, name, &st, pid);
	} else {
		sfd_info("metrics",
			 "not attaching to %s: owner uid %u, mode %04o (only "
			 "files of root or uid %u that group and others may "
			 "not write)",
			 name, (unsigned int)st.st_uid,
			 (unsigned int)st.st_mode & 07777,
			 (unsigned int)geteuid());
	}
	close(fd);
}

/* The file /proc/<pid>/exe names into @out, for logs. */
static void exe_name(const char *exe, char *out, size_t len)
{
	ssize_t n = readlink(exe, out, len - 1);

	if (n > 0)
		out[n] = '\0';
	else
		snprintf(out, len, "%s", exe);
}

/* The libsfshm.so mapped by @pid, if any, into @out. */
static bool mapped_lib(pid_t pid, char *out, size_t len)
{
	char path[64], line[PATH_MAX + 128];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');

		if (!p || !strstr(p, "/libsfshm.so"))
			continue;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, len, "%s", p);
		found = true;
	}
	fclose(f);
	return found;
}

/* ---- the instance's processes (the procs map) ----------------------------- */

static int procs_fd(void)
{
	return bpf_map__fd(M.skel->maps.procs);
}

/*
 * A connection of @pid: one more, or the first if the entry is an
 * earlier daemon's (its connections died with it) or an earlier
 * process's that had the pid.
 */
static void procs_connect(pid_t pid)
{
	struct sfm_proc p,
		now = { .start = sf_proc_start((uint32_t)pid), .conns = 1 };
	__u32 key = (__u32)pid;

	if (!bpf_map_lookup_elem(procs_fd(), &key, &p) && !p.inherited &&
	    p.start == now.start)
		now.conns = p.conns + 1;
	bpf_map_update_elem(procs_fd(), &key, &now, BPF_ANY);
}

/* A connection of @pid closed: the entry goes with the last. */
static void procs_disconnect(pid_t pid)
{
	__u32 key = (__u32)pid;
	struct sfm_proc p;

	if (bpf_map_lookup_elem(procs_fd(), &key, &p))
		return;
	if (p.conns > 1) {
		p.conns--;
		bpf_map_update_elem(procs_fd(), &key, &p, BPF_EXIST);
	} else {
		bpf_map_delete_elem(procs_fd(), &key);
	}
}

/*
 * Drop the entries of processes that are gone and of pids that now name
 * another process (start time changed).  At start (@inherit) the
 * survivors are an earlier daemon's clients still running: marked
 * inherited, they count on, and their next connection counts anew.
 */
static void procs_prune(bool inherit)
{
	__u32 *keys;
	size_t n = map_keys(procs_fd(), sizeof(*keys), (void **)&keys);

	for (size_t i = 0; i < n; i++) {
		struct sfm_proc p;

		if (bpf_map_lookup_elem(procs_fd(), &keys[i], &p))
			continue;
		if (!sf_proc_alive(keys[i], p.start)) {
			bpf_map_delete_elem(procs_fd(), &keys[i]);
		} else if (inherit && !p.inherited) {
			p.inherited = 1;
			bpf_map_update_elem(procs_fd(), &keys[i], &p,
					    BPF_EXIST);
		}
	}
	free(keys);
}

/* At start: prune, and add ourselves. */
static void procs_start(void)
{
	__u32 key = (__u32)getpid();
	struct sfm_proc me = { .start = sf_proc_start(key), .conns = 1 };

	procs_prune(true);
	bpf_map_update_elem(procs_fd(), &key, &me, BPF_ANY);
	M.procs_pruned_ns = sf_now_ns();
}

void sfd_metrics_client_gone(pid_t pid)
{
	if (M.skel && pid > 0)
		procs_disconnect(pid);
}

void sfd_metrics_client(pid_t pid)
{
	char path[PATH_MAX], name[PATH_MAX];
	uint64_t now;

	if (!M.skel || pid <= 0)
		return;
	now = sf_now_ns();
	if (now - M.procs_pruned_ns >= PRUNE_EVERY_NS) {
		procs_prune(false);
		M.procs_pruned_ns = now;
	}
	procs_connect(pid);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	exe_name(path, name, sizeof(name));
	attach_once(path, name, pid);
	if (mapped_lib(pid, path, sizeof(path)))
		attach_once(path, path, pid);
}

/* ---- loading ------------------------------------------------------------- */

static void unpin_maps(void)
{
	static const char *const maps[] = { SFM_MAP_STATS, SFM_MAP_HIST,
					    SFM_MAP_RINGS, SFM_MAP_BINARIES,
					    SFM_MAP_PROCS, SFM_MAP_VERSION };
	char path[160];

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", M.dir, maps[i]);
		unlink(path);
	}
}

/*
 * Remove the instance's pinned maps (they do not fit this version) and
 * the links whose programs count into them (links/tmp-* among them).
 */
static void unpin_all(void)
{
	char path[160];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/links", M.dir);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char sub[240];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%.64s", path, e->d_name);
		if (unlink(sub) && errno == EISDIR)
			unpin_dir(sub);
	}
	if (d)
		closedir(d);
	unpin_maps();
}

static int open_load(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = M.dir);
	int err;

	M.skel = sfm_bpf__open_opts(&opts);
	if (!M.skel)
		return -errno;
	err = sfm_bpf__load(M.skel);
	if (err) {
		sfm_bpf__destroy(M.skel);
		M.skel = NULL;
	}
	return err;
}

/* FNV-1a 64 of the BPF object we load: which build pinned (sfm.h). */
static __u64 obj_hash(void)
{
	size_t n;
	const unsigned char *p = sfm_bpf__elf_bytes(&n);
	__u64 h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The hash in the pinned version map; 0 if none (a daemon before it). */
static __u64 pinned_version(void)
{
	char path[160];
	__u32 zero = 0;
	__u64 v = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/" SFM_MAP_VERSION, M.dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &zero, &v))
		v = 0;
	close(fd);
	return v;
}

static void version_set(__u64 hash)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(M.skel->maps.version), &zero, &hash,
				BPF_ANY))
		sfd_warn("metrics", -errno, "cannot record the version in %s",
			 M.dir);
}

/*
 * Load, reusing the pinned maps and links if this very BPF object pinned
 * them.  Another build's go first, links too: its programs would count
 * on beside ours, and a map of another layout but the same size would be
 * misread.  Maps that do not fit are replaced as well (their counters
 * restart) and the load tried once more.
 */
static int load(void)
{
	__u64 hash = obj_hash();
	char path[160];
	bool reused;
	int err;

	snprintf(path, sizeof(path), "%s/" SFM_MAP_STATS, M.dir);
	reused = exists(path);
	if (reused && pinned_version() != hash) {
		sfd_warn("metrics", 0,
			 "the maps and links pinned in %s are another sfshmd "
			 "build's: replacing them, counters restart",
			 M.dir);
		unpin_all();
		reused = false;
	}
	err = open_load();
	if (err && err != -EPERM && err != -EACCES && reused) {
		sfd_warn("metrics", err,
			 "the maps pinned in %s do not fit this sfshmd: "
			 "replacing them, counters restart",
			 M.dir);
		unpin_all();
		reused = false;
		err = open_load();
	}
	if (!err)
		version_set(hash);
	if (!err && reused)
		sfd_info("metrics", "reusing the maps and links pinned in %s",
			 M.dir);
	return err;
}

/* Say once why metrics are off, and turn them off. */
static bool off(int err, const char *what)
{
	sfd_warn("metrics", err,
		 "metrics off: %s (BPF needs root, or CAP_BPF and "
		 "CAP_PERFMON; --no-bpf says it is on purpose)",
		 what);
	M.dir[0] = '\0';
	return false;
}

/* off() for make_dirs()'s @err: what check_dir() refused, if that. */
static bool off_dirs(int err)
{
	char why[256];

	if (err != -EPERM)
		return off(err, "cannot create the instance directory");
	snprintf(why, sizeof(why),
		 "the bpffs directories are not ours alone (%s: owner %u, or "
		 "writable by others)",
		 M.refused, (unsigned int)M.refused_uid);
	return off(err, why);
}

static void attach_all(void)
{
	char self[PATH_MAX];
	int err;

	if (!exists(DEBUGFS_TRACING)) {
		err = fs_ensure(TRACEFS, TRACEFS_MAGIC, "tracefs");
		if (err)
			sfd_warn("metrics", err,
				 "no tracefs at %s and cannot mount one: "
				 "no futex counts",
				 TRACEFS);
	}
	attach_tracepoint(M.skel->progs.sfm_futex, "sys_enter_futex", "futex",
			  &M.tp_links[0]);
	attach_tracepoint(M.skel->progs.sfm_futex_waitv,
			  "sys_enter_futex_waitv", "futex_waitv",
			  &M.tp_links[1]);
	procs_start();
	remove_partial();
	prune_stale();
	exe_name("/proc/self/exe", self, sizeof(self));
	attach_once("/proc/self/exe", self, getpid());
}

/*
 * Each probe site attached holds an fd (MAX_HELD binaries of several
 * sites each): take all the fds we may have, not the usual 1024.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		sfd_warn("metrics", -errno,
			 "cannot raise RLIMIT_NOFILE to %llu",
			 (unsigned long long)rl.rlim_max);
}

bool sfd_metrics_start(const struct sfd_config *cfg)
{
	char inst[80];
	int err;

	if (!cfg->metrics_bpf) {
		sfd_info("metrics", "metrics off (metrics.bpf=false)");
		return false;
	}
	libbpf_set_print(libbpf_log);
	snprintf(M.dir, sizeof(M.dir), "%s/%s", SFM_BPFFS_ROOT,
		 sfd_config_instance(cfg, inst, sizeof(inst)));
	if (!may_bpf())
		return off(-EPERM, "no privileges to load BPF programs");
	err = fs_ensure(BPFFS, BPF_FS_MAGIC, "bpf");
	if (err)
		return off(err, "no bpf file system at " BPFFS
				" and cannot mount one");
	err = make_dirs();
	if (err) {
		remove_dirs();
		return off_dirs(err);
	}
	raise_nofile();
	err = load();
	if (err) {
		remove_dirs();
		return off(err, "cannot load the BPF programs");
	}
	attach_all();
	sfd_info("metrics", "on, maps in %s", M.dir);
	return true;
}

/* Delete every entry of @map_fd whose key starts with topic @name. */
static void forget_in(int map_fd, size_t key_size, const char *name)
{
	unsigned char *keys;
	size_t n = map_keys(map_fd, key_size, (void **)&keys);

	for (size_t i = 0; i < n; i++)
		if (!strncmp((const char *)keys + i * key_size, name,
			     SFM_TOPIC_LEN))
			bpf_map_delete_elem(map_fd, keys + i * key_size);
	free(keys);
}

/* Drop the ring mappings of topic @name: no futex counts for it. */
static void forget_rings(const char *name)
{
	int fd = bpf_map__fd(M.skel->maps.ring_addrs);
	struct sfm_ring_key *keys;
	size_t n = map_keys(fd, sizeof(*keys), (void **)&keys);
	struct sfm_tp tp;

	for (size_t i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(fd, &keys[i], &tp) &&
		    !strncmp(tp.topic, name, sizeof(tp.topic)))
			bpf_map_delete_elem(fd, &keys[i]);
	free(keys);
}

void sfd_metrics_forget_topic(const char *topic)
{
	if (!M.skel)
		return;
	/* First the rings: the persister still wakes on them until it
	 * buries the topic, and would bring the counters back. */
	forget_rings(topic);
	forget_in(bpf_map__fd(M.skel->maps.topic_stats), sizeof(struct sfm_tp),
		  topic);
	forget_in(bpf_map__fd(M.skel->maps.topic_latency),
		  sizeof(struct sfm_hist_key), topic);
}

const char *sfd_metrics_dir(void)
{
	return M.dir;
}

void sfd_metrics_stop(void)
{
	/*
	 * Nothing to undo: the pins keep programs, maps and links alive for
	 * the next daemon, and our fds close at exit.  The libbpf objects
	 * stay reachable from M until then, never destroyed (see the top of
	 * this file).
	 */
	if (M.skel)
		sfd_info("metrics", "leaving the metrics attached in %s",
			 M.dir);
}
