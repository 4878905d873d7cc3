// SPDX-License-Identifier: MIT
/* sfctl_broker.c - `sfctl broker info`: the daemon, as it sees itself. */
#include <stdio.h>
#include <string.h>

#include "sfctl_int.h"

static void info_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl broker info - ask the daemon about itself\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl broker info [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Prints the daemon's broker id, process id, software\n"
	      "    version, uptime, number of topics and of connected\n"
	      "    clients, and its data and run directories.  Exit status 0\n"
	      "    also tells that the daemon is up and answering, which makes\n"
	      "    the command a health check.\n"
	      "\n"
	      "    With --json: {\"broker_id\", \"pid\", \"software\",\n"
	      "    \"uptime_ms\", \"topics\", \"clients\", \"data_dir\",\n"
	      "    \"run_dir\"}.\n"
	      "\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
}

static const struct sfctl_cmd info_cmd = { "broker info", info_help };

/* "2d 3h 4m 5.250s" */
static const char *fmt_uptime(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000, d = s / 86400, h = s / 3600 % 24,
		 m = s / 60 % 60;
	int n = 0;

	if (d)
		n += snprintf(buf + n, len - n, "%" PRIu64 "d ", d);
	if (d || h)
		n += snprintf(buf + n, len - n, "%" PRIu64 "h ", h);
	if (d || h || m)
		n += snprintf(buf + n, len - n, "%" PRIu64 "m ", m);
	snprintf(buf + n, len - n, "%" PRIu64 ".%03us", s % 60,
		 (unsigned)(ms % 1000));
	return buf;
}

static void print_info(const struct sfshm_broker_info *bi)
{
	char up[64];

	printf("broker.id  %" PRId32 "\n", bi->broker_id);
	printf("pid        %" PRIu32 "\n", bi->pid);
	printf("software   %.*s\n", (int)sizeof(bi->software), bi->software);
	printf("uptime     %s\n", fmt_uptime(up, sizeof(up), bi->uptime_ms));
	printf("topics     %" PRIu32 "\n", bi->topics);
	printf("clients    %" PRIu32 "\n", bi->clients);
	printf("data.dir   %.*s\n", (int)sizeof(bi->data_dir), bi->data_dir);
	printf("run.dir    %.*s\n", (int)sizeof(bi->run_dir), bi->run_dir);
}

/* A fixed-size field from the daemon, NUL-terminated or not. */
static void json_field(struct json *j, const char *key, const char *s,
		       size_t len)
{
	char buf[257];

	snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
	json_str(j, key, buf);
}

static void json_info(const struct sfshm_broker_info *bi)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_i64(&j, "broker_id", bi->broker_id);
	json_u64(&j, "pid", bi->pid);
	json_field(&j, "software", bi->software, sizeof(bi->software));
	json_u64(&j, "uptime_ms", bi->uptime_ms);
	json_u64(&j, "topics", bi->topics);
	json_u64(&j, "clients", bi->clients);
	json_field(&j, "data_dir", bi->data_dir, sizeof(bi->data_dir));
	json_field(&j, "run_dir", bi->run_dir, sizeof(bi->run_dir));
	json_obj_end(&j);
}

static int broker_info(struct sfctl *ctl, int argc, char **argv)
{
	struct sfshm_broker_info bi;
	int rc = sfctl_start(ctl, &info_cmd, argc, argv, false);
	int err;

	if (rc >= 0)
		return rc;
	memset(&bi, 0, sizeof(bi));
	err = sfshm_broker_info(ctl->client, &bi);
	if (err)
		return sfctl_fail(ctl, &info_cmd, NULL, err);
	if (ctl->json)
		json_info(&bi);
	else
		print_info(&bi);
	return SFT_EXIT_OK;
}

static const struct sfctl_sub broker_subs[] = {
	{ "info", "the daemon's id, version, uptime, directories",
	  broker_info },
	{ NULL, NULL, NULL },
};

static void broker_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl broker - the daemon itself\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl broker info [--json] [-b DIR]\n"
	      "\n"
	      "COMMANDS\n",
	      f);
	sfctl_help_subs(f, broker_subs, 6);
	fputs("\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
}

static const struct sfctl_cmd broker_cmd = { "broker", broker_help };

int sfctl_broker(struct sfctl *ctl, int argc, char **argv)
{
	return sfctl_group(ctl, &broker_cmd, broker_subs, argc, argv);
}
