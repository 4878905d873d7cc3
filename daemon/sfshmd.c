// SPDX-License-Identifier: MIT
/*
 * sfshmd - the StreamFlow daemon: owns topics and their partition rings,
 * persists them to commit logs, answers clients on its control socket.
 *
 * Runs in the foreground and logs to stderr (systemd style).  SIGTERM or
 * SIGINT: stop accepting requests, tell producers the daemon stops,
 * persist and fsync everything committed, remove the run dir's files.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "server.h"
#include "topic.h"

struct daemon_state {
	struct sfd_config cfg;
	struct sfd_registry reg;
	int run_lock, data_lock;
	char run_lock_path[PATH_MAX];
	bool made_run_dir;
};

static int mkdir_p(const char *dir, mode_t mode, bool *made)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) == 0) {
		if (made)
			*made = true;
		return 0;
	}
	return errno == EEXIST ? 0 : -errno;
}

/*
 * Take an exclusive lock on @path (created if missing) and write our pid
 * into it.  Return: the fd; -EBUSY if another daemon holds it (its pid in
 * *@holder); -errno.
 */
static int lock_file(const char *path, long *holder)
{
	char buf[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		*holder = strtol(buf, NULL, 10);
		close(fd);
		return err;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int take_locks(struct daemon_state *d)
{
	char path[PATH_MAX + 32];
	long holder = 0;
	int err;

	err = mkdir_p(d->cfg.run_dir, 0755, &d->made_run_dir);
	if (!err)
		err = mkdir_p(d->cfg.data_dir, 0755, NULL);
	if (err) {
		sfd_error("main", err, "cannot create %s or %s", d->cfg.run_dir,
			  d->cfg.data_dir);
		return err;
	}
	snprintf(d->run_lock_path, sizeof(d->run_lock_path), "%s/sfshmd.lock",
		 d->cfg.run_dir);
	d->run_lock = lock_file(d->run_lock_path, &holder);
	if (d->run_lock == -EBUSY) {
		sfd_error("main", 0,
			  "another sfshmd (pid %ld) already uses run dir %s",
			  holder, d->cfg.run_dir);
		return -EBUSY;
	}
	snprintf(path, sizeof(path), "%s/.sfshmd.lock", d->cfg.data_dir);
	d->data_lock = d->run_lock < 0 ? d->run_lock : lock_file(path, &holder);
	if (d->data_lock == -EBUSY) {
		sfd_error("main", 0,
			  "another sfshmd (pid %ld) already uses data dir %s",
			  holder, d->cfg.data_dir);
		return -EBUSY;
	}
	if (d->run_lock < 0 || d->data_lock < 0) {
		err = d->run_lock < 0 ? d->run_lock : d->data_lock;
		sfd_error("main", err, "cannot lock the run and data dirs");
		return err;
	}
	return 0;
}

static void release_locks(struct daemon_state *d)
{
	if (d->data_lock >= 0)
		close(d->data_lock);
	if (d->run_lock >= 0) {
		unlink(d->run_lock_path);
		close(d->run_lock);
	}
	/* Leave nothing behind: the run dir too, if we made it and it is
	 * empty now. */
	if (d->made_run_dir && d->reg.drained)
		rmdir(d->cfg.run_dir);
}

static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int serve(struct daemon_state *d)
{
	struct sfd_server *srv = NULL;
	pthread_t persister;
	int err;

	/* Before the rings are mapped: the daemon's own probes see them. */
	sfd_metrics_start(&d->cfg);
	err = sfd_registry_load(&d->reg);
	if (err) {
		sfd_error("main", err, "cannot load the topics of %s",
			  d->cfg.data_dir);
		return err;
	}
	err = pthread_create(&persister, NULL, sfd_persister_main, &d->reg);
	if (err) {
		sfd_registry_close(&d->reg);
		return -err;
	}
	err = sfd_server_open(&d->reg, &srv);
	if (err)
		sfd_error("main", err, "cannot listen on %s/sfshmd.sock",
			  d->cfg.run_dir);
	else
		sfd_info("main", "ready: run dir %s, data dir %s, broker %d",
			 d->cfg.run_dir, d->cfg.data_dir, d->cfg.broker_id);
	if (!err)
		err = sfd_server_run(srv);
	sfd_info("main", "stopping: persisting everything");
	sfd_server_close(srv);
	pthread_mutex_lock(&d->reg.lock);
	d->reg.stopping = true;
	pthread_mutex_unlock(&d->reg.lock);
	sfd_registry_ring_bell(&d->reg);
	pthread_join(persister, NULL);
	if (!d->reg.drained)
		sfd_warn("main", 0,
			 "some records could not be persisted; their rings "
			 "stay in %s for the next start",
			 d->cfg.run_dir);
	sfd_registry_close(&d->reg);
	sfd_metrics_stop();
	return err;
}

int main(int argc, char **argv)
{
	static struct daemon_state d = { .run_lock = -1, .data_lock = -1 };
	char msg[512];
	int rc;

	sfd_config_init(&d.cfg);
	rc = sfd_config_parse_args(&d.cfg, argc, argv, msg, sizeof(msg));
	if (rc == 1)
		return 0;
	if (rc) {
		fprintf(stderr, "sfshmd: %s\nTry 'sfshmd --help'.\n", msg);
		return 2;
	}
	sfd_log_set_level(d.cfg.log_level);
	block_signals();
	pthread_mutex_init(&d.reg.lock, NULL);
	d.reg.cfg = &d.cfg;
	rc = take_locks(&d);
	if (!rc)
		rc = serve(&d);
	release_locks(&d);
	sfd_info("main", "stopped%s", rc ? " with an error" : "");
	return rc ? 1 : 0;
}
