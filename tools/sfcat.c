// SPDX-License-Identifier: MIT
/*
 * sfcat.c - produce and consume sfshm records from the shell, in the
 * manner of kcat (formerly kafkacat): `sfcat -P -t TOPIC` sends lines,
 * `sfcat -C -t TOPIC` prints records, `sfcat -G GROUP TOPIC...` prints
 * them as a member of a consumer group.
 *
 * This file parses and checks the command line into struct sfcat_conf
 * and holds the manual; sfcat_produce.c, sfcat_consume.c and
 * sfcat_group.c do the work, sfcat_format.c prints records by -f.
 *
 * Exit status: 0 success, 1 run-time failure, 2 usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfcat_int.h"

volatile sig_atomic_t sfcat_stop;

static void help(FILE *f)
{
	fputs("NAME\n"
	      "    sfcat - produce and consume sfshm records from the shell\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfcat -P -t TOPIC [-p PARTITION] [-K DELIM] [-D DELIM]\n"
	      "          [-X acks=none|written|durable] [-H KEY=VALUE ...]\n"
	      "          [-T] [-l] [-Z] [-c COUNT] [FILE...]\n"
	      "    sfcat -C -t TOPIC [-p PARTITION]\n"
	      "          [-o beginning|end|OFFSET|-N|s@TIMESTAMP_MS]\n"
	      "          [-c COUNT] [-e] [-f FORMAT] [-D DELIM] [-K DELIM] [-u]\n"
	      "          [-Z]\n"
	      "    sfcat -G GROUP [-o beginning|end] [-c COUNT] [-e] [-f FORMAT]\n"
	      "          [-D DELIM] [-K DELIM] [-u] [-Z] TOPIC...\n"
	      "    common: [-b DIR] [-q] [-v] [-X KEY=VALUE]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    sfcat is kcat for sfshm.  In producer mode (-P) it reads\n"
	      "    standard input, or each FILE in turn (\"-\" is standard\n"
	      "    input), splits it into records at each DELIM (a newline by\n"
	      "    default; the last record needs none) and sends them to\n"
	      "    TOPIC.  It exits 0 only once every record is acknowledged at\n"
	      "    the -X acks level.  SIGINT or SIGTERM ends the input early:\n"
	      "    what was read so far is still sent and waited for.\n"
	      "\n"
	      "    In consumer mode (-C) it prints the records of TOPIC (of\n"
	      "    one PARTITION with -p, else of all, served in turn) from the\n"
	      "    -o position on, each followed by DELIM, or as -f FORMAT\n"
	      "    says, and waits for more until interrupted, -c records were\n"
	      "    printed or, with -e, every partition is read to its end.\n"
	      "    SIGINT and SIGTERM stop it cleanly with status 0 (a second\n"
	      "    signal kills it).\n"
	      "\n"
	      "    With -G GROUP (kcat's balanced consumer mode; -C implied)\n"
	      "    it joins the consumer group GROUP subscribed to the TOPICs\n"
	      "    given as arguments (a TOPIC starting with ^ is a POSIX\n"
	      "    extended regular expression, matched against the topics\n"
	      "    that exist at each rebalance) and prints the records of the\n"
	      "    partitions the group assigns it, as -C does.  The group\n"
	      "    shares the partitions among its members and moves them when\n"
	      "    members come and go; each rebalance is reported on stderr\n"
	      "    (without -q).  Offsets are committed automatically: every\n"
	      "    5 s, before partitions are given up, and on leaving; each\n"
	      "    partition starts at the group's committed offset.  -e exits\n"
	      "    once every partition assigned to it is read to its end (not\n"
	      "    before the group has assigned it some).  SIGINT and SIGTERM\n"
	      "    make it commit, leave the group at once and exit 0.\n"
	      "\n"
	      "GENERAL OPTIONS\n"
	      "    -P     producer mode\n"
	      "    -C     consumer mode\n"
	      "    -G GROUP\n"
	      "           consumer mode as a member of consumer group GROUP\n"
	      "           (its group.id); the topics are the arguments (-t\n"
	      "           adds one); -p does not apply\n"
	      "    -t TOPIC\n"
	      "           the topic\n"
	      "    -p PARTITION\n"
	      "           -P: send every record to this partition (default: by\n"
	      "           key, with Kafka's murmur2 partitioner, and round-robin\n"
	      "           for records without a key); -C: read only this one\n"
	      "    -b, --run-dir DIR\n"
	      "           the run directory of the sfshmd to use (kcat's -b\n"
	      "           broker); default $" SFSHM_RUN_DIR_ENV ", else\n"
	      "           " SFSHM_DEFAULT_RUN_DIR "\n"
	      "    -D DELIM\n"
	      "           record delimiter: -P splits the input at it; -C\n"
	      "           prints it after each record when there is no -f\n"
	      "           (default: newline)\n"
	      "    -K DELIM\n"
	      "           key delimiter: -P takes what comes before the first\n"
	      "           DELIM of a record as its key (a record without DELIM\n"
	      "           gets no key); -C prints the key and DELIM before the\n"
	      "           value when there is no -f\n"
	      "    -c COUNT\n"
	      "           stop after COUNT records\n"
	      "    -Z     -P: send empty keys and values as null (a null value\n"
	      "           is a tombstone); -C: print null keys and values as\n"
	      "           NULL rather than as nothing\n"
	      "    -X KEY=VALUE\n"
	      "           a setting (-X list shows them):\n"
	      "           acks=none|written|durable   -P: when a record counts\n"
	      "               as sent: in the ring, written to the log (the\n"
	      "               default), or fsynced; also 0, 1, all\n"
	      "           message.timeout.ms=MS   -P: how long a send waits for\n"
	      "               ring space and for its acknowledgement (30000;\n"
	      "               -1: for ever)\n"
	      "           auto.offset.reset=earliest|latest|error   -C: where\n"
	      "               to go from an offset that is not in the log\n"
	      "               (earliest); -G: also where a partition without\n"
	      "               a committed offset starts\n"
	      "           partition.assignment.strategy=range|roundrobin|sticky\n"
	      "               -G: how the group shares partitions (range);\n"
	      "               every member must use the same\n"
	      "           group.instance.id=ID   -G: static membership: a\n"
	      "               member that comes back within 45 s keeps its\n"
	      "               partitions, without a rebalance\n"
	      "    -q     quiet: errors only\n"
	      "    -v     verbose: also say what was done (on stderr)\n"
	      "    -h, --help\n"
	      "           print this manual and exit\n"
	      "\n"
	      "    DELIM and FORMAT take the escapes \\n \\t \\r \\0 \\\\ \\xHH.\n"
	      "\n"
	      "PRODUCER OPTIONS\n"
	      "    -H KEY=VALUE\n"
	      "           add this header to every record (repeatable; KEY\n"
	      "           alone gives a null value)\n"
	      "    -T     echo each record sent to standard output, as tee\n"
	      "           does\n"
	      "    -l     send each FILE whole as one record (without -l, files\n"
	      "           are split at DELIM like standard input; note that\n"
	      "           kcat's default is the other way round)\n"
	      "    FILE   read records from these files instead of standard\n"
	      "           input\n"
	      "\n"
	      "CONSUMER OPTIONS\n"
	      "    -o OFFSET\n"
	      "           where to start, in each partition read:\n"
	      "           beginning   the first record still in the log\n"
	      "                       (the default)\n"
	      "           end         only records produced from now on\n"
	      "           N           the record at offset N\n"
	      "           -N          N records before the end\n"
	      "           s@MS        the first record whose timestamp is at\n"
	      "                       or after MS (ms since the epoch)\n"
	      "           With -G only beginning and end, for the partitions\n"
	      "           the group has no committed offset for (as\n"
	      "           auto.offset.reset earliest / latest); the others\n"
	      "           start at their committed offset.\n"
	      "    -e     exit once every partition read is at its end (-G:\n"
	      "           every partition assigned)\n"
	      "    -f FORMAT\n"
	      "           print each record as FORMAT says: %t topic, %p\n"
	      "           partition, %o offset, %k key, %s value, %T timestamp\n"
	      "           (ms since the epoch), %h headers (k=v,...), %S value\n"
	      "           size, %K key size (-1 when null), %% a percent sign;\n"
	      "           -D and -K do not apply then\n"
	      "    -u     unbuffered output: each record is written at once\n"
	      "\n"
	      "EXIT STATUS\n"
	      "    0  success (-P: every record acknowledged)\n"
	      "    1  run-time failure: no daemon, no such topic, a send or\n"
	      "       acknowledgement failed, a read failed (stderr says which)\n"
	      "    2  usage error\n"
	      "\n"
	      "ENVIRONMENT\n"
	      "    " SFSHM_RUN_DIR_ENV
	      "  the run directory when -b is not given\n"
	      "\n"
	      "EXAMPLES\n"
	      "    seq 10 | sfcat -P -t numbers\n"
	      "    sfcat -P -t orders -K : -X acks=durable < orders.txt\n"
	      "    sfcat -C -t orders -e -f '%p %o %k=%s\\n'\n"
	      "    sfcat -C -t orders -o -10 -e          the last 10 of each\n"
	      "                                          partition\n"
	      "    sfcat -C -t logs -o end -u | grep ERROR\n"
	      "    sfcat -G billing orders refunds    share the partitions of\n"
	      "                                       two topics with the other\n"
	      "                                       members of group billing\n"
	      "    sfcat -G audit -o end -e '^audit-.*'\n"
	      "\n"
	      "SEE ALSO\n"
	      "    sfctl(1), kcat(1)\n",
	      f);
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Report a usage error.  Return: SFT_EXIT_USAGE. */
static int usage(const char *fmt, ...)
{
	va_list ap;

	fputs(SFCAT ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" SFCAT " --help' for more information.\n", stderr);
	return SFT_EXIT_USAGE;
}

void sfcat_err(const char *fmt, ...)
{
	va_list ap;

	fputs(SFCAT ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int sfcat_connect(const struct sfcat_conf *conf, struct sfshm_client **c)
{
	if (conf->unbuffered)
		setvbuf(stdout, NULL, _IONBF, 0);
	return sft_connect(SFCAT, conf->run_dir, 0, c);
}

void sfcat_note(const struct sfcat_conf *conf, int level, const char *fmt, ...)
{
	va_list ap;

	if (conf->verbosity < level)
		return;
	fputs(SFCAT ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- option values ----------------------------------------------------- */

static int parse_offset(struct sfcat_conf *conf, const char *s)
{
	int64_t v;

	if (!strcmp(s, "beginning")) {
		conf->start = START_BEGINNING;
		return 0;
	}
	if (!strcmp(s, "end")) {
		conf->start = START_END;
		return 0;
	}
	if (!strncmp(s, "s@", 2)) {
		conf->start = START_TIME;
		if (sft_parse_i64(s + 2, &conf->start_arg) ||
		    conf->start_arg < 0)
			return -EINVAL;
		return 0;
	}
	if (sft_parse_i64(s, &v))
		return -EINVAL;
	conf->start = v < 0 ? START_TAIL : START_OFFSET;
	conf->start_arg = v < 0 ? -v : v;
	return 0;
}

struct named {
	const char *name;
	int value;
};

static int lookup(const struct named *t, const char *s, int *out)
{
	for (; t->name; t++) {
		if (!strcasecmp(t->name, s)) {
			*out = t->value;
			return 0;
		}
	}
	return -EINVAL;
}

static const struct named acks_names[] = {
	{ "none", SFSHM_ACKS_NONE },	   { "0", SFSHM_ACKS_NONE },
	{ "written", SFSHM_ACKS_WRITTEN }, { "1", SFSHM_ACKS_WRITTEN },
	{ "durable", SFSHM_ACKS_DURABLE }, { "all", SFSHM_ACKS_DURABLE },
	{ "-1", SFSHM_ACKS_DURABLE },	   { NULL, 0 },
};

static const struct named reset_names[] = {
	{ "earliest", SFSHM_RESET_EARLIEST },
	{ "smallest", SFSHM_RESET_EARLIEST },
	{ "beginning", SFSHM_RESET_EARLIEST },
	{ "latest", SFSHM_RESET_LATEST },
	{ "largest", SFSHM_RESET_LATEST },
	{ "end", SFSHM_RESET_LATEST },
	{ "error", SFSHM_RESET_NONE },
	{ "none", SFSHM_RESET_NONE },
	{ NULL, 0 },
};

static void list_settings(void)
{
	fputs("acks=none|written|durable          (-P; default written)\n"
	      "message.timeout.ms=MS              (-P; default 30000, -1: "
	      "for ever)\n"
	      "auto.offset.reset=earliest|latest|error   (-C, -G; default "
	      "earliest)\n"
	      "partition.assignment.strategy=range|roundrobin|sticky   (-G; "
	      "default range)\n"
	      "group.instance.id=ID                (-G; default none: a "
	      "dynamic member)\n",
	      stdout);
}

static bool key_is(const char *kv, size_t klen, const char *key)
{
	return strlen(key) == klen && !strncmp(kv, key, klen);
}

/* -X KEY=VALUE.  Return: 0, or the exit status to end with. */
static int parse_setting(struct sfcat_conf *conf, const char *kv)
{
	const char *val = strchr(kv, '=');
	size_t klen = val ? (size_t)(val - kv) : strlen(kv);
	int v = 0;
	int64_t ms;

	if (!strcmp(kv, "list")) {
		list_settings();
		exit(SFT_EXIT_OK);
	}
	if (!val)
		return usage("-X takes KEY=VALUE, not '%s'", kv);
	val++;
	if (key_is(kv, klen, "acks")) {
		if (lookup(acks_names, val, &v))
			return usage("bad acks '%s': use none, written or "
				     "durable",
				     val);
		conf->acks = (enum sfshm_acks)v;
	} else if (key_is(kv, klen, "message.timeout.ms")) {
		if (sft_parse_ms(val, &ms) || ms < -1 || ms > INT32_MAX)
			return usage("bad message.timeout.ms '%s'", val);
		conf->timeout_ms = (int)ms;
	} else if (key_is(kv, klen, "auto.offset.reset")) {
		if (lookup(reset_names, val, &v))
			return usage("bad auto.offset.reset '%s': use "
				     "earliest, latest or error",
				     val);
		conf->reset = (enum sfshm_offset_reset)v;
	} else if (key_is(kv, klen, "partition.assignment.strategy")) {
		conf->assignor = val;
	} else if (key_is(kv, klen, "group.instance.id")) {
		if (!*val)
			return usage("group.instance.id cannot be empty");
		conf->instance_id = val;
	} else {
		return usage("unknown setting '%.*s' (-X list shows them)",
			     (int)klen, kv);
	}
	return 0;
}

static int add_header(struct sfcat_conf *conf, char *kv)
{
	char *eq = strchr(kv, '=');
	struct sfshm_hdr *h;

	if (eq == kv || !*kv)
		return usage("-H takes KEY=VALUE with a non-empty KEY");
	conf->hdrs = sft_realloc(SFCAT, conf->hdrs, conf->nhdrs + 1,
				 sizeof(*conf->hdrs));
	h = &conf->hdrs[conf->nhdrs++];
	h->key = kv;
	h->key_len = eq ? (uint32_t)(eq - kv) : (uint32_t)strlen(kv);
	h->value = eq ? eq + 1 : NULL;
	h->value_len = eq ? (int32_t)strlen(eq + 1) : -1;
	return 0;
}

static int set_mode(struct sfcat_conf *conf, char mode)
{
	if (conf->group && mode == 'P')
		return usage("-G consumes: it cannot be combined with -P");
	if (conf->mode && conf->mode != mode)
		return usage("-P and -C cannot be combined");
	conf->mode = mode;
	return 0;
}

static int parse_partition(struct sfcat_conf *conf, const char *s)
{
	int64_t v;

	if (sft_parse_i64(s, &v) || v < 0 || v >= SFSHM_PARTITIONS_MAX)
		return usage("bad partition '%s': must be 0 to %d", s,
			     SFSHM_PARTITIONS_MAX - 1);
	conf->partition = (int32_t)v;
	return 0;
}

static int parse_count(struct sfcat_conf *conf, const char *s)
{
	if (sft_parse_i64(s, &conf->count) || conf->count < 1)
		return usage("bad count '%s': must be a positive number", s);
	return 0;
}

/* ---- the command line -------------------------------------------------- */

static int set_delim(struct bytes *b, const char *s, char opt)
{
	free(b->p);
	b->p = sft_unescape(SFCAT, s, &b->len);
	return b->len ? 0 : usage("-%c needs a delimiter", opt);
}

static int flag(struct sfcat_conf *conf, int c)
{
	switch (c) {
	case 'T':
		conf->echo = true;
		break;
	case 'l':
		conf->whole_file = true;
		break;
	case 'e':
		conf->exit_eof = true;
		break;
	case 'u':
		conf->unbuffered = true;
		break;
	case 'Z':
		conf->null_str = true;
		break;
	case 'q':
		conf->verbosity = 0;
		break;
	case 'v':
		conf->verbosity++;
		break;
	}
	return 0;
}

/* An option with a value.  Return: 0, or the exit status to end with. */
static int value_option(struct sfcat_conf *conf, int c, const char **format)
{
	switch (c) {
	case 't':
		conf->topic = optarg;
		return 0;
	case 'p':
		return parse_partition(conf, optarg);
	case 'b':
		conf->run_dir = optarg;
		return 0;
	case 'G':
		conf->group = optarg;
		return conf->mode == 'P' ? usage("-G consumes: it cannot be "
						 "combined with -P") :
					   set_mode(conf, 'C');
	case 'D':
		return set_delim(&conf->delim, optarg, 'D');
	case 'K':
		conf->has_key_delim = true;
		return set_delim(&conf->key_delim, optarg, 'K');
	case 'X':
		return parse_setting(conf, optarg);
	case 'H':
		return add_header(conf, optarg);
	case 'o':
		if (parse_offset(conf, optarg))
			return usage("bad offset '%s': use beginning, end, N, "
				     "-N or s@TIMESTAMP_MS",
				     optarg);
		return 0;
	case 'c':
		return parse_count(conf, optarg);
	case 'f':
		*format = optarg;
		return 0;
	}
	return flag(conf, c);
}

/* Options of one mode only, and the mode they need. */
static const struct {
	char opt;
	char mode;
} mode_opts[] = {
	{ 'T', 'P' }, { 'H', 'P' }, { 'l', 'P' },
	{ 'o', 'C' }, { 'e', 'C' }, { 'f', 'C' },
};

/* -G: topics from -t and the arguments; -o only as the reset policy. */
static int check_group(struct sfcat_conf *conf, const bool *seen, int nargs,
		       char **args)
{
	if (seen['p'])
		return usage("-p does not apply with -G: the group assigns "
			     "the partitions");
	if (!nargs && !conf->topic)
		return usage("-G needs the topics to subscribe to, as "
			     "arguments");
	if (seen['o'] && conf->start != START_BEGINNING &&
	    conf->start != START_END)
		return usage("with -G, -o takes beginning or end only (where "
			     "partitions without a committed offset start)");
	if (seen['o'])
		conf->reset = conf->start == START_END ? SFSHM_RESET_LATEST :
							 SFSHM_RESET_EARLIEST;
	conf->topics =
		sft_alloc(SFCAT, (size_t)nargs + 1, sizeof(*conf->topics));
	if (conf->topic)
		conf->topics[conf->ntopics++] = conf->topic;
	for (int i = 0; i < nargs; i++)
		conf->topics[conf->ntopics++] = args[i];
	return 0;
}

static int check_modes(struct sfcat_conf *conf, const bool *seen, int nargs,
		       char **args)
{
	if (!conf->mode)
		return usage("give -P (produce), -C (consume) or -G GROUP "
			     "(consume in a group)");
	if (!conf->topic && !conf->group)
		return usage("give the topic with -t");
	for (size_t i = 0; i < sizeof(mode_opts) / sizeof(mode_opts[0]); i++)
		if (seen[(int)mode_opts[i].opt] &&
		    mode_opts[i].mode != conf->mode)
			return usage("-%c is an option of -%c mode",
				     mode_opts[i].opt, mode_opts[i].mode);
	if (conf->group)
		return check_group(conf, seen, nargs, args);
	if (conf->mode == 'C' && nargs)
		return usage("files are read in -P mode only");
	if (conf->whole_file && !nargs)
		return usage("-l needs FILE arguments");
	return 0;
}

static int parse_args(struct sfcat_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "run-dir", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	bool seen[128] = { false };
	char buf[8];
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":PCG:t:p:b:D:K:X:H:o:c:f:TleuZqvh",
				longopts, NULL)) != -1) {
		if (c == 'h') {
			help(stdout);
			exit(SFT_EXIT_OK);
		}
		if (c == ':')
			return usage("option '%s' needs a value",
				     sft_bad_option(argv, buf, sizeof(buf)));
		if (c == '?')
			return usage("unknown option '%s'",
				     sft_bad_option(argv, buf, sizeof(buf)));
		seen[c & 127] = true;
		rc = c == 'P' || c == 'C' ? set_mode(conf, (char)c) :
					    value_option(conf, c, &format);
		if (rc)
			return rc;
	}
	rc = check_modes(conf, seen, argc - optind, argv + optind);
	if (rc)
		return rc;
	conf->files = argv + optind;
	conf->nfiles = argc - optind;
	if (!conf->delim.p)
		conf->delim.p = sft_unescape(SFCAT, "\\n", &conf->delim.len);
	if (conf->mode == 'C' && format &&
	    sfcat_fmt_compile(conf, format, buf, sizeof(buf)))
		return usage("bad format: unknown field '%s' (see --help)",
			     buf);
	if (conf->mode == 'C' && !format)
		sfcat_fmt_default(conf);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	sfcat_stop = 1;
}

/* SIGINT / SIGTERM ask for a clean stop; a second one kills. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND; /* no SA_RESTART: interrupt read() */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void conf_free(struct sfcat_conf *conf)
{
	free(conf->delim.p);
	free(conf->key_delim.p);
	free(conf->hdrs);
	free(conf->topics);
	sfcat_fmt_free(conf);
}

int main(int argc, char **argv)
{
	struct sfcat_conf conf = {
		.partition = SFSHM_PARTITION_ANY,
		.verbosity = 1,
		.acks = SFSHM_ACKS_WRITTEN,
		.timeout_ms = 30000,
		.start = START_BEGINNING,
		.count = -1,
		.reset = SFSHM_RESET_EARLIEST,
	};
	int rc = parse_args(&conf, argc, argv);

	if (!rc) {
		catch_signals();
		rc = conf.mode == 'P' ? sfcat_produce(&conf) :
		     conf.group	      ? sfcat_group(&conf) :
					sfcat_consume(&conf);
	}
	conf_free(&conf);
	return rc;
}
