// SPDX-License-Identifier: MIT
/*
 * sftop.c - a live view of sfshmd's traffic, in the manner of top: one
 * row per topic-partition with its rates, e2e latency, consumer lag and
 * back-pressure, refreshed every second from the BPF metrics maps the
 * daemon pins (common_sfm.c) and from the daemon's control socket.
 *
 * This file holds main(), the options, the manual and the refresh loop;
 * sftop_view.c makes the rows, sftop_draw.c the text, sftop_term.c
 * handles the terminal.
 *
 * Exit status: 0 success, 1 no metrics to show, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sftop_int.h"

#define DEFAULT_INTERVAL_MS 1000
#define MIN_LIVE_INTERVAL_MS 100
#define DEFAULT_TIMEOUT_MS 1000

static void help(FILE *f)
{
	fputs("NAME\n"
	      "    sftop - live per-partition traffic, latency and lag of\n"
	      "    sfshmd, like top\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sftop [-b DIR] [--instance NAME | --bpf-dir DIR]\n"
	      "          [-d|--interval MS] [-t|--topic TOPIC]\n"
	      "    sftop --once [--json] [--interval MS] [-t TOPIC] ...\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    sftop shows what a running sfshmd moves, one row per\n"
	      "    topic-partition, refreshed every interval (1 s): records\n"
	      "    and bytes produced and consumed per second, the end-to-end\n"
	      "    latency, the consumer groups' lag and back-pressure.  The\n"
	      "    numbers come from the BPF maps sfshmd pins when it runs as\n"
	      "    root with metrics on (not --no-bpf); rates are the growth\n"
	      "    of its counters between two readings.  Topics, partitions\n"
	      "    and lag come from the daemon over its control socket; when\n"
	      "    it cannot be reached sftop goes on with the maps alone.\n"
	      "    Reading the maps needs root (CAP_BPF).\n"
	      "\n"
	      "    On a terminal the screen is redrawn in place and keys act\n"
	      "    at once; with standard output not a terminal a table is\n"
	      "    printed every interval.  --once prints one table (or JSON\n"
	      "    document) and exits, for scripts.\n"
	      "\n"
	      "OPTIONS\n"
	      "    -b, --run-dir DIR\n"
	      "           the run directory of the sfshmd to watch (default:\n"
	      "           $" SFSHM_RUN_DIR_ENV ", else " SFSHM_DEFAULT_RUN_DIR
	      ");\n"
	      "           its last component, characters other than\n"
	      "           [A-Za-z0-9._-] replaced by '_', is the instance\n"
	      "    --instance NAME\n"
	      "           the metrics of the daemon started with --instance\n"
	      "           NAME\n"
	      "    --bpf-dir DIR\n"
	      "           read the maps pinned in DIR\n"
	      "    -d, --interval MS\n"
	      "           refresh every MS (default 1000, at least 100; units\n"
	      "           ms, s accepted: 2s).  With --once: the rates are\n"
	      "           over one interval, and 0 prints the totals at once,\n"
	      "           without rates\n"
	      "    --once\n"
	      "           print one snapshot and exit\n"
	      "    --json\n"
	      "           with --once: print one JSON document (below)\n"
	      "    -t, --topic TOPIC\n"
	      "           show the partitions of TOPIC only\n"
	      "    --timeout MS\n"
	      "           give up on a request to the daemon after MS\n"
	      "           (default 1000)\n"
	      "    -h, --help\n"
	      "           print this manual and exit\n"
	      "\n"
	      "KEYS\n"
	      "    q, ^C  quit\n"
	      "    s, S   sort by the next / previous column\n"
	      "    n      sort by name (topic, partition)\n"
	      "    i      sort by IN/s\n"
	      "    o      sort by OUT/s\n"
	      "    l      sort by LAG\n"
	      "    r      reverse the order\n"
	      "    ^Z     suspend\n"
	      "\n"
	      "    Numbers sort largest first, names A-Z; the sort column's\n"
	      "    heading is underlined.\n"
	      "\n"
	      "COLUMNS\n"
	      "    The header line gives the instance, how many topics and\n"
	      "    partitions the daemon has (counted from the maps without\n"
	      "    a daemon) and the records and bytes per second in and out\n"
	      "    of all of them; the next line where the numbers come from.\n"
	      "\n"
	      "    TOPIC, PART   the topic-partition\n"
	      "    IN/s          records persisted to the log per second\n"
	      "    OUT/s         records handed out by consumers' polls per\n"
	      "                  second (consumers report every 1024 records\n"
	      "                  and when they reach the end)\n"
	      "    IN B/s, OUT B/s\n"
	      "                  their key + value bytes per second (K, M, G:\n"
	      "                  powers of 1024)\n"
	      "    P50, P99      end-to-end latency, a record's timestamp to a\n"
	      "                  consumer's poll (one record in 1024 sampled),\n"
	      "                  of the samples of the last interval; marked *\n"
	      "                  when there were none and all samples are\n"
	      "                  used.  Estimated from power-of-two buckets:\n"
	      "                  good to a factor of two at worst\n"
	      "    LAG           the largest lag of any consumer group on the\n"
	      "                  partition: log end - committed offset (- if\n"
	      "                  no group committed one, or no daemon)\n"
	      "    BP/s          sends per second that waited for room in a\n"
	      "                  full ring (back-pressure)\n"
	      "    ERR           errors of producers, consumers and the\n"
	      "                  persister on the partition, in all\n"
	      "    TOTAL-IN, TOTAL-OUT\n"
	      "                  records in and out since the counters started\n"
	      "\n"
	      "    Counts: k, M, G are powers of 1000.  A rate is - without\n"
	      "    an interval.  Columns that do not fit the terminal's width\n"
	      "    are left out from the right.\n"
	      "\n"
	      "JSON\n"
	      "    --once --json prints {\"instance\", \"dir\",\n"
	      "    \"interval_ms\" (measured; 0: totals only), \"daemon\"\n"
	      "    (true if it answered), \"topic_count\",\n"
	      "    \"partition_count\", \"totals\": {...}, \"partitions\":\n"
	      "    [{\"topic\", \"partition\", ...}, ...]}; totals and each\n"
	      "    partition have \"records_in\", \"records_out\",\n"
	      "    \"bytes_in\", \"bytes_out\", \"errors\", \"bp_waits\" (since\n"
	      "    the counters started), with an interval \"in_per_sec\",\n"
	      "    \"out_per_sec\", \"in_bytes_per_sec\",\n"
	      "    \"out_bytes_per_sec\", \"bp_waits_per_sec\"; a partition\n"
	      "    \"e2e_p50_ns\", \"e2e_p99_ns\" and \"e2e_window\"\n"
	      "    (\"interval\" or \"total\") if it has latency samples, and\n"
	      "    \"lag\" if known.  Partitions are sorted by topic and\n"
	      "    partition.\n"
	      "\n"
	      "EXIT STATUS\n"
	      "    0  success\n"
	      "    1  no metrics: the maps are not there (sfshmd not running,\n"
	      "       or without metrics) or not readable (not root); the\n"
	      "       reason is on stderr\n"
	      "    2  usage error: unknown option, bad value\n"
	      "\n"
	      "FILES\n"
	      "    " SFM_BPFFS_ROOT "/INSTANCE/" SFM_MAP_STATS ", " SFM_MAP_HIST
	      "\n"
	      "           the BPF maps sfshmd pins (layouts in bpf/sfm.h)\n"
	      "    DIR/sfshmd.sock\n"
	      "           the daemon's control socket in its run directory\n"
	      "\n"
	      "ENVIRONMENT\n"
	      "    " SFSHM_RUN_DIR_ENV
	      "  the run directory when -b is not given\n"
	      "\n"
	      "EXAMPLES\n"
	      "    sudo sftop\n"
	      "    sudo sftop -b /dev/shm/sfshm-test --topic orders\n"
	      "    sudo sftop --once --interval 0 --json | jq .totals\n"
	      "\n"
	      "SEE ALSO\n"
	      "    sfctl(1) (sfctl metrics), sfcat(1), sfshmd(8)\n",
	      f);
}

struct sftop {
	const char *run_dir, *instance_opt, *bpf_dir, *topic;
	int interval_ms, timeout_ms;
	bool once, json;
	char dir[PATH_MAX];
	char instance[NAME_MAX + 1];
	struct sfshm_client *client;
	enum sftop_sort sort;
	bool reverse;
	char status[PATH_MAX + 256];
};

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, SFTOP ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" SFTOP " --help' for more information.\n");
	return SFT_EXIT_USAGE;
}

/* ---- options ------------------------------------------------------------ */

static int parse_ms(const char *opt, const char *s, int min, int *out)
{
	int64_t v;

	if (sft_parse_ms(s, &v) || v < min || v > INT32_MAX)
		return usage("bad %s '%s'", opt, s);
	*out = (int)v;
	return 0;
}

static int value_option(struct sftop *t, int c)
{
	switch (c) {
	case 'b':
		t->run_dir = optarg;
		return 0;
	case 'I':
		t->instance_opt = optarg;
		return 0;
	case 'D':
		t->bpf_dir = optarg;
		return 0;
	case 't':
		t->topic = optarg;
		return 0;
	case 'd':
		return parse_ms("--interval", optarg, 0, &t->interval_ms);
	case 'w':
		return parse_ms("--timeout", optarg, 1, &t->timeout_ms);
	case 'o':
		t->once = true;
		return 0;
	case 'j':
		t->json = true;
		return 0;
	default:
		return -1;
	}
}

static int check_options(struct sftop *t, int argc, char **argv)
{
	if (optind < argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (t->json && !t->once)
		return usage("--json goes with --once");
	if (!t->once && t->interval_ms < MIN_LIVE_INTERVAL_MS)
		return usage("--interval must be at least %d ms",
			     MIN_LIVE_INTERVAL_MS);
	if (t->bpf_dir && t->instance_opt)
		return usage("--bpf-dir and --instance exclude each other");
	if (sfm_dir(t->bpf_dir, t->instance_opt, t->run_dir, t->dir,
		    sizeof(t->dir)))
		return usage("bad --instance '%s'",
			     t->instance_opt ? t->instance_opt : "");
	return 0;
}

static int parse_args(struct sftop *t, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "run-dir", required_argument, NULL, 'b' },
		{ "instance", required_argument, NULL, 'I' },
		{ "bpf-dir", required_argument, NULL, 'D' },
		{ "interval", required_argument, NULL, 'd' },
		{ "topic", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char buf[8];
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hb:d:t:", longopts, NULL)) !=
	       -1) {
		if (c == 'h') {
			help(stdout);
			exit(sft_flush_stdout(SFTOP));
		}
		if (c == ':')
			return usage("option '%s' needs a value",
				     sft_bad_option(argv, buf, sizeof(buf)));
		rc = value_option(t, c);
		if (rc < 0)
			return usage("unknown option '%s'",
				     sft_bad_option(argv, buf, sizeof(buf)));
		if (rc)
			return rc;
	}
	return check_options(t, argc, argv);
}

/* The name in the header: the instance, or the --bpf-dir's last part. */
static void set_instance(struct sftop *t)
{
	const char *slash;
	size_t n = strlen(t->dir);

	while (n > 1 && t->dir[n - 1] == '/')
		n--;
	slash = memrchr(t->dir, '/', n);
	slash = slash ? slash + 1 : t->dir;
	snprintf(t->instance, sizeof(t->instance), "%.*s",
		 (int)(n - (size_t)(slash - t->dir)), slash);
}

/* ---- the sources -------------------------------------------------------- */

static void disconnect(struct sftop *t)
{
	sfshm_disconnect(t->client);
	t->client = NULL;
}

/*
 * Ask the daemon, connecting first if need be; a failed request drops the
 * connection, to be made again next time (the daemon may have restarted).
 * Return: 0 or -errno.
 */
static int ask_daemon(struct sftop *t, struct sfm_daemon *d)
{
	struct sfshm_client_opts o = {
		.size = sizeof(o),
		.run_dir = t->run_dir,
		.client_id = SFTOP,
		.timeout_ms = t->timeout_ms,
	};
	int err = t->client ? 0 : sfshm_connect(&o, &t->client);

	if (!err)
		err = sfm_daemon_read(t->client, t->topic, d);
	if (err)
		disconnect(t);
	return err;
}

static void say_maps_error(const struct sftop *t, int err)
{
	char why[PATH_MAX + 128];

	fprintf(stderr, SFTOP ": %s\n",
		sfm_strerror(err, t->dir, why, sizeof(why)));
}

/* ---- once --------------------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void print_once(struct sftop *t, const struct sfm_snap *prev,
		       const struct sfm_snap *cur, const struct sfm_daemon *d)
{
	struct sftop_screen s = { 0 };
	struct sftop_view v = { .instance = t->instance, .dir = t->dir };

	if (sftop_view_build(&v, prev, cur, d, t->topic))
		sft_oom(SFTOP);
	if (t->json) {
		sftop_print_json(&v, stdout);
	} else {
		s.sort = t->sort;
		s.reverse = t->reverse;
		s.daemon_dir = sft_run_dir(t->run_dir);
		sftop_view_sort(&v, t->sort, t->reverse);
		sftop_draw(&v, &s, stdout);
	}
	sftop_view_free(&v);
}

static int run_once(struct sftop *t)
{
	struct sfm_snap a, b = { 0 };
	struct sfm_daemon d;
	int err = sfm_snap_read(t->dir, &a);

	if (err) {
		say_maps_error(t, err);
		return SFM_EXIT_NOMETRICS;
	}
	if (t->interval_ms) {
		sleep_ms(t->interval_ms);
		err = sfm_snap_read(t->dir, &b);
	}
	if (err) {
		say_maps_error(t, err);
		sfm_snap_free(&a);
		return SFM_EXIT_NOMETRICS;
	}
	err = ask_daemon(t, &d);
	if (err)
		fprintf(stderr,
			SFTOP ": warning: cannot ask sfshmd in %s: %s; "
			      "topics from the maps, lag unknown\n",
			sft_run_dir(t->run_dir), sfshm_strerror(err));
	print_once(t, t->interval_ms ? &a : NULL, t->interval_ms ? &b : &a,
		   err ? NULL : &d);
	if (!err)
		sfm_daemon_free(&d);
	sfm_snap_free(&a);
	sfm_snap_free(&b);
	return SFT_EXIT_OK;
}

/* ---- live --------------------------------------------------------------- */

/* The live loop's state: the last two readings and the view of them. */
struct live {
	struct sfm_snap prev, cur;
	struct sfm_daemon d;
	bool have_d;
	struct sftop_view v;
	bool ansi;
};

static void draw(struct sftop *t, struct live *l)
{
	struct sftop_screen s = {
		.ansi = l->ansi,
		.sort = t->sort,
		.reverse = t->reverse,
		.daemon_dir = sft_run_dir(t->run_dir),
		.status = t->status,
	};

	if (l->ansi)
		sftop_term_size(&s.rows, &s.cols);
	sftop_resized = 0;
	sftop_view_sort(&l->v, t->sort, t->reverse);
	sftop_draw(&l->v, &s, stdout);
}

/* Read the maps and the daemon again; remake the view. */
static void refresh(struct sftop *t, struct live *l)
{
	char why[PATH_MAX + 128];
	struct sfm_snap next;
	int err = sfm_snap_read(t->dir, &next);

	t->status[0] = '\0';
	if (err) { /* keep showing the last reading */
		snprintf(t->status, sizeof(t->status), "%s",
			 sfm_strerror(err, t->dir, why, sizeof(why)));
	} else {
		sfm_snap_free(&l->prev);
		l->prev = l->cur;
		l->cur = next;
	}
	if (l->have_d)
		sfm_daemon_free(&l->d);
	l->have_d = !ask_daemon(t, &l->d);
	sftop_view_free(&l->v);
	if (sftop_view_build(&l->v, l->prev.mono_ns ? &l->prev : NULL, &l->cur,
			     l->have_d ? &l->d : NULL, t->topic))
		sft_oom(SFTOP);
}

/* Act on a key.  Return: false to quit. */
static bool key(struct sftop *t, int k)
{
	static const char jump[] = "nilo";
	static const enum sftop_sort jump_to[] = { SORT_NAME, SORT_IN, SORT_OUT,
						   SORT_LAG };
	const char *p = k > 0 ? strchr(jump, k) : NULL;

	if (k == 'q' || k == 'Q' || k == 3 || k < 0)
		return false;
	if (k == 's')
		t->sort = (t->sort + 1) % SORT_KEYS;
	else if (k == 'S')
		t->sort = (t->sort + SORT_KEYS - 1) % SORT_KEYS;
	else if (k == 'r')
		t->reverse = !t->reverse;
	else if (k == 26)
		sftop_term_suspend();
	else if (p)
		t->sort = jump_to[p - jump];
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Take keys until the next refresh is due.  Return: false to quit. */
static bool wait_keys(struct sftop *t, struct live *l, uint64_t due)
{
	uint64_t now;
	int k;

	while (!sftop_stop && (now = now_ms()) < due) {
		k = sftop_term_key((int)(due - now));
		if (k && !key(t, k))
			return false;
		if (k || sftop_resized)
			draw(t, l);
	}
	return !sftop_stop;
}

static int run_live(struct sftop *t, struct live *l)
{
	uint64_t due = now_ms();

	l->ansi = isatty(STDOUT_FILENO);
	sftop_term_signals();
	if (l->ansi)
		sftop_term_start(); /* without a terminal on stdin: no keys */
	for (;;) {
		refresh(t, l);
		draw(t, l);
		if (!l->ansi)
			putchar('\n');
		due += (uint64_t)t->interval_ms;
		if (due < now_ms()) /* a slow daemon: do not try to catch up */
			due = now_ms();
		if (!wait_keys(t, l, due))
			break;
	}
	sftop_term_stop();
	return sft_flush_stdout(SFTOP);
}

static int live(struct sftop *t)
{
	struct live l = { .v = { .instance = t->instance, .dir = t->dir } };
	int rc, err = sfm_snap_read(t->dir, &l.cur);

	if (err) {
		say_maps_error(t, err);
		return SFM_EXIT_NOMETRICS;
	}
	/* The first screen shows totals; rates from the second on. */
	sfm_snap_free(&l.cur);
	rc = run_live(t, &l);
	sftop_view_free(&l.v);
	if (l.have_d)
		sfm_daemon_free(&l.d);
	sfm_snap_free(&l.prev);
	sfm_snap_free(&l.cur);
	return rc;
}

int main(int argc, char **argv)
{
	struct sftop t = {
		.interval_ms = DEFAULT_INTERVAL_MS,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
		.sort = SORT_NAME,
	};
	int rc = parse_args(&t, argc, argv);

	if (rc)
		return rc;
	set_instance(&t);
	rc = t.once ? run_once(&t) : live(&t);
	disconnect(&t);
	if (rc == SFT_EXIT_OK)
		rc = sft_flush_stdout(SFTOP);
	return rc;
}
