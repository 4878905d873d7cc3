// SPDX-License-Identifier: MIT
/*
 * metrics.c - loading and attaching the BPF metrics (bpf/sfm.bpf.c).
 *
 * Where things live, under /sys/fs/bpf/sfshm/<instance>/:
 *   topic_stats, topic_latency, ring_addrs,  the maps (bpf/sfm.h), pinned
 *   binaries, procs                          by libbpf (pin_root_path).
 *   links/futex, links/futex_waitv           the two tracepoint links.
 *   links/<dev>-<ino>-<mtime>/<n>            the uprobe links of the USDT
 *                                            probes of one binary.
 *
 * Everything pinned outlives the daemon: the programs keep counting while
 * it restarts, and the next daemon of the instance finds the pinned maps
 * (libbpf reuses them), sees which binaries are attached already and
 * attaches only new ones, so nothing is counted twice.  Removing the
 * instance directory (rm -r) detaches everything.
 *
 * Which processes: a uprobe fires in every process running the binary,
 * whatever daemon it talks to; the programs count only the pids in the
 * procs map, which the daemon keeps: itself, and each client from its
 * connection to its disconnection.
 *
 * Which binaries: sfshmd's own (libsfshm is linked in, so it has both
 * providers), and those of the clients that connect, found through
 * /proc/<pid>/exe and the libsfshm.so the client maps.  Attaching happens
 * when the connection is accepted, before the client's first request is
 * answered, so a client's probes are live before it can send anything.
 * A binary without our probes is remembered and not looked at again.
 *
 * libbpf 1.1 cannot pin a USDT link (bpf_link__pin() gives -EINVAL): a
 * USDT link is a set of uprobe links, one per probe site, each its own
 * kernel link with an fd.  We find those fds in /proc/self/fd (the new
 * anon_inode:bpf_link entries) and pin them with bpf_obj_pin().  The
 * libbpf link objects are kept, never destroyed: destroying one would
 * remove its argument specs from the program's spec map, which the pinned
 * links go on using after we exit.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

#define BPFFS "/sys/fs/bpf"
#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing/events"
#define MAX_FDS 4096 /* link fds looked at per attach */
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

/* A binary looked at: attached, or without our probes. */
struct seen {
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
};

static struct {
	struct sfm_bpf *skel;
	char dir[96]; /* SFM_BPFFS_ROOT/<instance of at most 64> */
	struct seen *seen;
	size_t nseen, seen_cap;
	struct bpf_link **links; /* kept open for good (see above) */
	size_t nlinks, links_cap;
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
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
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

/* Mark in @set (MAX_FDS bits) every bpf_link fd open now. */
static void link_fds(unsigned char *set)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(set, 0, MAX_FDS / 8);
	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (fd > 2 && fd < MAX_FDS && is_link_fd(fd))
			set[fd / 8] |= (unsigned char)(1u << (fd % 8));
	}
	closedir(d);
}

/* Pin the link fds in @after but not in @before as @dir/0, @dir/1...  */
static int pin_new(const unsigned char *before, const unsigned char *after,
		   const char *dir)
{
	char path[256];
	int n = 0;

	for (int fd = 0; fd < MAX_FDS; fd++) {
		unsigned char bit = (unsigned char)(1u << (fd % 8));

		if (!(after[fd / 8] & bit) || (before[fd / 8] & bit))
			continue;
		snprintf(path, sizeof(path), "%s/%d", dir, n++);
		if (bpf_obj_pin(fd, path))
			return -errno;
	}
	return n;
}

static int keep_link(struct bpf_link *l)
{
	if (M.nlinks == M.links_cap) {
		size_t cap = M.links_cap ? 2 * M.links_cap : 32;
		struct bpf_link **v = realloc(M.links, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		M.links = v;
		M.links_cap = cap;
	}
	M.links[M.nlinks++] = l;
	return 0;
}

/* ---- attaching ----------------------------------------------------------- */

/* The tracepoint @tp of syscalls/ through @prog, pinned as links/@name. */
static void attach_tracepoint(struct bpf_program *prog, const char *tp,
			      const char *name)
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
	keep_link(l);
}

/* Attach every USDT program to @path.  Return: links made, or -errno. */
static int attach_usdt_all(const char *path)
{
	int made = 0;

	for (size_t i = 0; i < sizeof(usdt_progs) / sizeof(usdt_progs[0]);
	     i++) {
		const struct usdt_prog *u = &usdt_progs[i];
		struct bpf_program *prog =
			bpf_object__find_program_by_name(M.skel->obj, u->prog);
		struct bpf_link *l;

		if (!prog)
			return -ENOENT;
		l = bpf_program__attach_usdt(prog, -1, path, u->provider,
					     u->probe, NULL);
		if (!l) {
			if (errno != ENOENT)
				sfd_debug("metrics", "%s:%s in %s: %s",
					  u->provider, u->probe, path,
					  strerror(errno));
			continue;
		}
		keep_link(l);
		made++;
	}
	return made;
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

/* links/<dev>-<ino>-<mtime>: where a binary's links are pinned. */
static void bin_dir(char *buf, size_t len, const struct sfm_bin_key *k)
{
	snprintf(buf, len, "%s/links/%llx-%llx-%llx", M.dir,
		 (unsigned long long)k->dev, (unsigned long long)k->ino,
		 (unsigned long long)k->mtime_ns);
}

static void bin_record(const struct sfm_bin_key *k, const char *name, int sites,
		       pid_t pid)
{
	struct sfm_bin b = { .sites = (__u32)sites, .pid = (__u32)pid };

	size_t n = strlen(name);

	/* a longer path is cut (and never pruned: see bin_current()) */
	memcpy(b.path, name, n < sizeof(b.path) ? n : sizeof(b.path) - 1);
	bpf_map_update_elem(bpf_map__fd(M.skel->maps.binaries), k, &b, BPF_ANY);
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

/*
 * Detach from binaries that were replaced (rebuilt, upgraded) or removed
 * since they were attached: their processes are gone or will be, and a
 * new file at the path is attached when its first process connects.
 * With @same_inode: detach from that inode's older versions (a file
 * rewritten in place), so that no probe site is attached twice.
 */
static void prune_binaries(const struct sfm_bin_key *same_inode)
{
	int fd = bpf_map__fd(M.skel->maps.binaries);
	struct sfm_bin_key k, next;
	struct sfm_bin b;
	char dir[224];
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &b))
			continue;
		if (same_inode ? k.dev != same_inode->dev ||
					 k.ino != same_inode->ino :
				 bin_current(&k, &b))
			continue;
		bin_dir(dir, sizeof(dir), &k);
		unpin_dir(dir);
		bpf_map_delete_elem(fd, &k);
		prev = NULL; /* the walk starts again after a delete */
		sfd_info("metrics", "detached from %s: replaced or removed",
			 b.path);
	}
}

/*
 * Attach to the binary at @path (@name in logs and the binaries map, of
 * process @pid) and pin the links in links/<dev>-<ino>-<mtime>/.
 * Return: 1 attached now, 0 attached before, -ENOENT no probes, -errno.
 */
static int attach_binary(const char *path, const char *name,
			 const struct stat *st, pid_t pid)
{
	unsigned char before[MAX_FDS / 8], after[MAX_FDS / 8];
	struct sfm_bin_key k = bin_key(st);
	char dir[224];
	int made, err;

	bin_dir(dir, sizeof(dir), &k);
	if (exists(dir))
		return 0;
	prune_binaries(&k);
	link_fds(before);
	made = attach_usdt_all(path);
	if (made <= 0)
		return made ? made : -ENOENT;
	link_fds(after);
	err = mkdir_one(dir);
	if (!err)
		err = pin_new(before, after, dir);
	if (err < 0) {
		sfd_warn("metrics", err, "cannot pin the links of %s in %s",
			 name, dir);
		return err;
	}
	bin_record(&k, name, err, pid);
	sfd_info("metrics", "attached to %s: %d probe sites", name, err);
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

/* Attach to @path once per binary (by inode and modification time). */
static void attach_once(const char *path, pid_t pid)
{
	struct stat st;

	char real[PATH_MAX];
	ssize_t n;

	if (stat(path, &st) || seen_before(&st))
		return;
	/* /proc/<pid>/exe: the kernel follows it; the log names the file */
	n = readlink(path, real, sizeof(real) - 1);
	real[n > 0 ? n : 0] = '\0';
	attach_binary(path, n > 0 ? real : path, &st, pid);
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

/* Add @delta to @pid's connection count; the entry goes at 0. */
static void procs_add(pid_t pid, int delta)
{
	int fd = bpf_map__fd(M.skel->maps.procs);
	__u32 key = (__u32)pid, n = 0;

	bpf_map_lookup_elem(fd, &key, &n);
	n = delta < 0 && n < (__u32)-delta ? 0 : n + (__u32)delta;
	if (n)
		bpf_map_update_elem(fd, &key, &n, BPF_ANY);
	else
		bpf_map_delete_elem(fd, &key);
}

/*
 * At start: forget the processes that are gone (the last daemon's own
 * pid among them), keep the clients still running (they go on producing
 * and consuming through their rings), and add ours.
 */
static void procs_prune(void)
{
	int fd = bpf_map__fd(M.skel->maps.procs);
	__u32 key, next, one = 1;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (kill((pid_t)key, 0) == 0 || errno != ESRCH)
			continue;
		bpf_map_delete_elem(fd, &key);
		prev = NULL;
	}
	key = (__u32)getpid();
	bpf_map_update_elem(fd, &key, &one, BPF_ANY);
}

void sfd_metrics_client_gone(pid_t pid)
{
	if (M.skel && pid > 0)
		procs_add(pid, -1);
}

void sfd_metrics_client(pid_t pid)
{
	char path[PATH_MAX];

	if (!M.skel || pid <= 0)
		return;
	procs_add(pid, 1);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	attach_once(path, pid);
	if (mapped_lib(pid, path, sizeof(path)))
		attach_once(path, pid);
}

/* ---- loading ------------------------------------------------------------- */

static void unpin_maps(void)
{
	static const char *const maps[] = { SFM_MAP_STATS, SFM_MAP_HIST,
					    SFM_MAP_RINGS, SFM_MAP_BINARIES,
					    SFM_MAP_PROCS };
	char path[160];

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", M.dir, maps[i]);
		unlink(path);
	}
}

/*
 * Remove the instance's pinned maps (they do not fit this version) and
 * the links whose programs count into them.
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

/*
 * Load, reusing the pinned maps; maps pinned by an incompatible version
 * are replaced (their counters restart) and the load tried once more.
 */
static int load(void)
{
	char path[160];
	bool reused;
	int err;

	snprintf(path, sizeof(path), "%s/" SFM_MAP_STATS, M.dir);
	reused = exists(path);
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

static void attach_all(void)
{
	int err;

	if (!exists(DEBUGFS_TRACING)) {
		err = fs_ensure(TRACEFS, TRACEFS_MAGIC, "tracefs");
		if (err)
			sfd_warn("metrics", err,
				 "no tracefs at %s and cannot mount one: "
				 "no futex counts",
				 TRACEFS);
	}
	attach_tracepoint(M.skel->progs.sfm_futex, "sys_enter_futex", "futex");
	attach_tracepoint(M.skel->progs.sfm_futex_waitv,
			  "sys_enter_futex_waitv", "futex_waitv");
	procs_prune();
	prune_binaries(NULL);
	attach_once("/proc/self/exe", getpid());
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
		return off(
			err,
			err == -EPERM ?
				"the bpffs directories are not root's alone" :
				"cannot create the instance directory");
	}
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
	unsigned char key[sizeof(struct sfm_hist_key)],
		next[sizeof(struct sfm_hist_key)];
	void *prev = NULL;

	while (!bpf_map_get_next_key(map_fd, prev, next)) {
		memcpy(key, next, key_size);
		if (strncmp((const char *)key, name, SFM_TOPIC_LEN) == 0) {
			bpf_map_delete_elem(map_fd, key);
			prev = NULL; /* deleting moves the walk: start again */
			continue;
		}
		prev = key;
	}
}

/* Drop the ring mappings of topic @name: no futex counts for it. */
static void forget_rings(const char *name)
{
	int fd = bpf_map__fd(M.skel->maps.ring_addrs);
	struct sfm_ring_key k, next;
	struct sfm_tp tp;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &tp) ||
		    strncmp(tp.topic, name, sizeof(tp.topic)))
			continue;
		bpf_map_delete_elem(fd, &k);
		prev = NULL;
	}
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
	 * stay reachable from M until then (see the top of this file).
	 */
	if (M.skel)
		sfd_info("metrics", "leaving the metrics attached in %s",
			 M.dir);
}
