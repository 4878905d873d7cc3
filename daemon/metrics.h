/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - sfshmd's BPF metrics: load the programs of bpf/sfm.bpf.c,
 * pin their maps and links under /sys/fs/bpf/sfshm/<instance>/, attach to
 * the binaries of the clients that connect.  See docs/MONITORING.md.
 *
 * One instance per daemon, used by the control thread only.  Every call is
 * a no-op when metrics are off (--no-bpf, no privileges, an old kernel).
 */
#ifndef SFD_METRICS_H
#define SFD_METRICS_H

#include <stdbool.h>
#include <sys/types.h>

struct sfd_config;

/**
 * sfd_metrics_start() - load, pin and attach, reusing what an earlier
 * daemon of the same instance pinned (counters continue).
 * @cfg: metrics.bpf, metrics.instance, run.dir.
 *
 * Context: at start, before rings are mapped.  Mounts bpffs and tracefs
 * where missing.  Without the privileges or the kernel support it logs
 * once why metrics are off and returns; the daemon runs on.
 * Return: true if metrics are on.
 */
bool sfd_metrics_start(const struct sfd_config *cfg);

/**
 * sfd_metrics_client() - a client process connected: count its probes
 * for this instance, attach those of its program and of the libsfshm.so
 * it maps unless already attached.  Only files that root or the daemon's
 * user owns and no one else may write are attached, at most 64 per
 * daemon: any local user may connect.
 * Context: control thread; may take a few ms the first time a binary is
 * seen, never again for it, and, at most once a second, a look at each
 * process of the instance (dropping those gone).
 */
void sfd_metrics_client(pid_t pid);

/**
 * sfd_metrics_client_gone() - a connection of @pid closed: once all are,
 * its probes no longer count for this instance.
 */
void sfd_metrics_client_gone(pid_t pid);

/**
 * sfd_metrics_forget_topic() - a topic was deleted: drop its counters, so
 * that a topic created again under that name starts from zero.
 */
void sfd_metrics_forget_topic(const char *topic);

/**
 * sfd_metrics_stop() - close what the daemon holds.  The pinned maps and
 * links stay: monitoring goes on across a restart.
 */
void sfd_metrics_stop(void);

/* The instance directory, "" when metrics are off. */
const char *sfd_metrics_dir(void);

#endif /* SFD_METRICS_H */
