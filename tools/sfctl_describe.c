// SPDX-License-Identifier: MIT
/*
 * sfctl_describe.c - `sfctl topic describe [NAME...]`: a topic's settings
 * and, per partition, its offsets, ring window and persisted log.
 */
#include <stdio.h>
#include <string.h>

#include "sfctl_int.h"

static void describe_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl topic describe - settings and state of topics\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl topic describe [NAME...] [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    For each topic NAME (every topic if none is given) prints\n"
	      "    its settings, with Kafka's config names, and a table with\n"
	      "    one row per partition:\n"
	      "\n"
	      "    PARTITION    the partition number\n"
	      "    LOG-START    the first offset still in the log\n"
	      "    LOG-END      the next offset to be given: the high\n"
	      "                 watermark; LOG-END - LOG-START records are\n"
	      "                 readable\n"
	      "    WRITTEN      records below this offset are written to the\n"
	      "                 log (page cache)\n"
	      "    DURABLE      records below this offset are fsynced\n"
	      "    RING-WINDOW  the ring's byte positions CLEAN..TAIL: what\n"
	      "                 consumers can still read from shared memory\n"
	      "                 (older records come from the log files)\n"
	      "    RING-USED    TAIL - CLEAN, of the ring's size\n"
	      "    LOG-BYTES    bytes of the partition's log segments\n"
	      "    SEGMENTS     number of log segment files\n"
	      "    PRODUCERS    producers attached now\n"
	      "    CONSUMERS    consumers attached now\n"
	      "\n"
	      "    With --json: {\"topics\": [{\"name\", \"partition_count\",\n"
	      "    \"config\": {...}, \"partitions\": [{\"partition\",\n"
	      "    \"log_start\", \"log_end\", \"written_offset\",\n"
	      "    \"durable_offset\", \"ring\": {\"size\", \"clean\", \"tail\",\n"
	      "    \"written\", \"durable\"}, \"log_bytes\", \"segments\",\n"
	      "    \"producers\", \"consumers\"}, ...]}, ...]}; byte counts\n"
	      "    and offsets are plain numbers.\n"
	      "\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
	fputs("    A topic that does not exist is reported on stderr; the\n"
	      "    others are still described, and the status is 1.\n",
	      f);
}

static const struct sfctl_cmd describe_cmd = { "topic describe",
					       describe_help };

/* ---- people ------------------------------------------------------------ */

static void print_configs(const struct sfshm_topic_config *c)
{
	printf("Configs: ring.bytes=%" PRIu64 ",segment.bytes=%" PRId64
	       ",segment.ms=%" PRId64 ",retention.bytes=%" PRId64
	       ",retention.ms=%" PRId64 ",flush.messages=%" PRId64
	       ",flush.ms=%" PRId64 "\n",
	       c->ring_bytes, c->segment_bytes, c->segment_ms,
	       c->retention_bytes, c->retention_ms, c->flush_messages,
	       c->flush_ms);
}

static void partition_row(struct table *t, const struct sfshm_partition_info *p)
{
	char used[32], size[32], logb[32];

	table_cell(t, "%" PRIu32, p->partition);
	table_cell(t, "%" PRId64, p->log_start);
	table_cell(t, "%" PRId64, p->log_end);
	table_cell(t, "%" PRId64, p->written_offset);
	table_cell(t, "%" PRId64, p->durable_offset);
	table_cell(t, "%" PRIu64 "..%" PRIu64, p->ring_clean, p->ring_tail);
	sft_fmt_bytes(used, sizeof(used),
		      (int64_t)(p->ring_tail - p->ring_clean));
	sft_fmt_bytes(size, sizeof(size), (int64_t)p->ring_size);
	table_cell(t, "%s of %s", used, size);
	table_cell(t, "%s",
		   sft_fmt_bytes(logb, sizeof(logb), (int64_t)p->log_bytes));
	table_cell(t, "%" PRIu32, p->segments);
	table_cell(t, "%" PRIu32, p->producers);
	table_cell(t, "%" PRIu32, p->consumers);
}

static void print_topic(const struct sfshm_topic_info *ti)
{
	static const char *const heads[] = {
		"PARTITION", "LOG-START",   "LOG-END",	 "WRITTEN",
		"DURABLE",   "RING-WINDOW", "RING-USED", "LOG-BYTES",
		"SEGMENTS",  "PRODUCERS",   "CONSUMERS",
	};
	struct table t;

	printf("Topic: %s\tPartitionCount: %" PRIu32 "\tMode: %04o\n", ti->name,
	       ti->partition_count, (unsigned)ti->config.mode);
	print_configs(&ti->config);
	table_init(&t, sizeof(heads) / sizeof(heads[0]), heads, "rrrrrrrrrrr");
	for (uint32_t i = 0; i < ti->partition_count; i++)
		partition_row(&t, &ti->partitions[i]);
	table_print(&t, stdout);
	table_free(&t);
}

/* ---- programs ---------------------------------------------------------- */

static void json_config(struct json *j, const struct sfshm_topic_config *c)
{
	char mode[16];

	snprintf(mode, sizeof(mode), "%04o", (unsigned)c->mode);
	json_obj_begin(j, "config");
	json_u64(j, "partitions", c->partitions);
	json_u64(j, "ring.bytes", c->ring_bytes);
	json_i64(j, "segment.bytes", c->segment_bytes);
	json_i64(j, "segment.ms", c->segment_ms);
	json_i64(j, "retention.bytes", c->retention_bytes);
	json_i64(j, "retention.ms", c->retention_ms);
	json_i64(j, "flush.messages", c->flush_messages);
	json_i64(j, "flush.ms", c->flush_ms);
	json_str(j, "mode", mode);
	json_obj_end(j);
}

static void json_partition(struct json *j, const struct sfshm_partition_info *p)
{
	json_obj_begin(j, NULL);
	json_u64(j, "partition", p->partition);
	json_i64(j, "log_start", p->log_start);
	json_i64(j, "log_end", p->log_end);
	json_i64(j, "written_offset", p->written_offset);
	json_i64(j, "durable_offset", p->durable_offset);
	json_obj_begin(j, "ring");
	json_u64(j, "size", p->ring_size);
	json_u64(j, "clean", p->ring_clean);
	json_u64(j, "tail", p->ring_tail);
	json_u64(j, "written", p->ring_written);
	json_u64(j, "durable", p->ring_durable);
	json_obj_end(j);
	json_u64(j, "log_bytes", p->log_bytes);
	json_u64(j, "segments", p->segments);
	json_u64(j, "producers", p->producers);
	json_u64(j, "consumers", p->consumers);
	json_obj_end(j);
}

static void json_topic(struct json *j, const struct sfshm_topic_info *ti)
{
	json_obj_begin(j, NULL);
	json_str(j, "name", ti->name);
	json_u64(j, "partition_count", ti->partition_count);
	json_config(j, &ti->config);
	json_arr_begin(j, "partitions");
	for (uint32_t i = 0; i < ti->partition_count; i++)
		json_partition(j, &ti->partitions[i]);
	json_arr_end(j);
	json_obj_end(j);
}

/* ---- the command ------------------------------------------------------- */

/* Describe one topic; the n-th one printed.  Return: 0 or exit status. */
static int describe_one(struct sfctl *ctl, struct json *j, const char *name,
			unsigned *n)
{
	struct sfshm_topic_info *ti;
	int err = sfshm_topic_describe(ctl->client, name, &ti);

	if (err)
		return sfctl_fail(ctl, &describe_cmd, name, err);
	if (ctl->json) {
		json_topic(j, ti);
	} else {
		if ((*n)++)
			printf("\n");
		print_topic(ti);
	}
	sfshm_topic_info_free(ti);
	return 0;
}

static int describe_names(struct sfctl *ctl, char **names, int count)
{
	struct json j;
	unsigned n = 0;
	int rc = 0;

	json_init(&j, stdout);
	if (ctl->json) {
		json_obj_begin(&j, NULL);
		json_arr_begin(&j, "topics");
	}
	for (int i = 0; i < count; i++)
		if (describe_one(ctl, &j, names[i], &n))
			rc = SFT_EXIT_FAIL;
	if (ctl->json) {
		json_arr_end(&j);
		json_obj_end(&j);
	}
	return rc;
}

int sfctl_topic_describe(struct sfctl *ctl, int argc, char **argv)
{
	char **names;
	int n, rc = sfctl_start(ctl, &describe_cmd, argc, argv, true);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return describe_names(ctl, argv + optind, argc - optind);
	n = sfshm_topic_list(ctl->client, &names);
	if (n < 0)
		return sfctl_fail(ctl, &describe_cmd, NULL, n);
	rc = describe_names(ctl, names, n);
	sfshm_free_list(names);
	return rc;
}
