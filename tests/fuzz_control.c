// SPDX-License-Identifier: MIT
/*
 * fuzz_control.c - libFuzzer target: sfshmd's request handler.
 *
 * Each input is one control message handed to sfd_handle() of a real
 * server (socket bound in a temporary run dir) over a real registry
 * (temporary data dir), as an administrator client.  Properties: the
 * daemon never crashes, never asserts, and every reply it sends is a
 * well-formed message of the request's type and sequence number.  Topics
 * an input creates are deleted afterwards so that state stays small (one
 * topic, "orders", is always there for describe and attach to find);
 * creations asking for more than 1 MiB of rings are skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"
#include "topic.h"

static struct sfd_config cfg;
static struct sfd_registry reg;
static struct sfd_server *srv;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void reset_topics(void);

static void cleanup(void)
{
	char cmd[600];

	sfd_server_close(srv);
	sfd_registry_close(&reg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", cfg.data_dir,
		 cfg.run_dir);
	if (system(cmd))
		fprintf(stderr, "fuzz_control: could not remove temp dirs\n");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char data[] = "/tmp/fuzz_control.XXXXXX";
	char run[] = "/dev/shm/fuzz_control.XXXXXX";

	(void)argc;
	(void)argv;
	if (!mkdtemp(data) || !mkdtemp(run))
		abort();
	sfd_config_init(&cfg);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", data);
	snprintf(cfg.run_dir, sizeof(cfg.run_dir), "%s", run);
	cfg.topic.ring_bytes = 64 << 10;
	sfd_log_set_level(SFD_ERROR);
	pthread_mutex_init(&reg.lock, NULL);
	reg.cfg = &cfg;
	if (sfd_registry_load(&reg) || sfd_server_open(&reg, &srv))
		abort();
	atexit(cleanup);
	reset_topics();
	return 0;
}

struct expect {
	uint16_t type;
	uint32_t seq;
	bool ok;
};

static int check_reply(void *arg, const void *msg, size_t len)
{
	struct expect *e = arg;
	struct sfp_msg m;

	if (sfp_parse(msg, len, &m) || m.type != e->type || m.seq != e->seq)
		abort(); /* the daemon answered with garbage */
	return 0;
}

/* Would this input create more than 1 MiB of rings? */
static bool too_big(const struct sfp_msg *m)
{
	uint32_t parts = 1;
	uint64_t ring = 64 << 10;

	if (m->type != SFP_TOPIC_CREATE)
		return false;
	sfp_get_u32(&m->t, SFA_PARTITIONS, &parts);
	sfp_get_u64(&m->t, SFA_RING_BYTES, &ring);
	return (uint64_t)(parts ? parts : 1) * (ring ? ring : 1) > (1u << 20);
}

/*
 * Back to the fixed state: only topic "orders" (2 partitions), which
 * describe / attach / list-offsets inputs find.
 */
static void reset_topics(void)
{
	struct sfshm_topic_config c;
	char err[256];
	struct sfd_topic *t;

	pthread_mutex_lock(&reg.lock);
	for (t = reg.topics; t;) {
		char name[SFSHM_TOPIC_MAX + 1];

		snprintf(name, sizeof(name), "%s", t->name);
		t = t->next;
		if (strcmp(name, "orders"))
			sfd_topic_delete(&reg, name);
	}
	sfd_registry_bury(&reg);
	if (!sfd_topic_find(&reg, "orders")) {
		sfshm_topic_config_init(&c);
		c.partitions = 2;
		if (sfd_topic_create(&reg, "orders", &c, err, sizeof(err)))
			abort();
	}
	pthread_mutex_unlock(&reg.lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expect e = { 0 };
	struct sfp_msg m;

	if (!sfp_parse(data, size, &m)) {
		if (too_big(&m))
			return 0;
		e.type = m.type;
		e.seq = m.seq;
	} else if (size >= SFP_HDR_SIZE) {
		/* Malformed: the reply still echoes what the header said. */
		memcpy(&e.type, data + 4, sizeof(e.type));
		memcpy(&e.seq, data + 8, sizeof(e.seq));
	}
	sfd_handle(srv, NULL, data, size, check_reply, &e);
	if (!reg.topics || reg.topics->next || reg.graveyard ||
	    strcmp(reg.topics->name, "orders"))
		reset_topics();
	return 0;
}
