// SPDX-License-Identifier: MIT
/*
 * sftop_term.c - the terminal: raw mode (keys one at a time, no echo, ^C
 * and ^Z as keys), the alternate screen, signals.
 *
 * Whatever way sftop ends - q, ^C, SIGINT/SIGTERM/SIGHUP, exit() on an
 * error - the terminal gets back its settings and its screen: the signal
 * handlers only set a flag the main loop checks (poll() returns EINTR,
 * the handlers are installed without SA_RESTART), and sftop_term_stop()
 * runs from the loop and again at exit.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "sftop_int.h"

volatile sig_atomic_t sftop_stop;
volatile sig_atomic_t sftop_resized;

static struct termios saved;
static bool raw_on, screen_on, atexit_set;

static void on_stop(int sig)
{
	sftop_stop = sig;
}

static void on_winch(int sig)
{
	(void)sig;
	sftop_resized = 1;
}

void sftop_term_signals(void)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
}

/* Write all of @s to standard output, unbuffered (also at exit). */
static void put(const char *s)
{
	size_t n = strlen(s);
	ssize_t w;

	while (n && ((w = write(STDOUT_FILENO, s, n)) > 0 || errno == EINTR))
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		}
}

static int raw_mode(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved))
		return -ENOTTY;
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
	t.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		return -errno;
	raw_on = true;
	return 0;
}

int sftop_term_start(void)
{
	int err;

	if (!atexit_set && !atexit(sftop_term_stop))
		atexit_set = true;
	fflush(stdout);
	/* Alternate screen, cursor hidden, screen cleared. */
	put("\033[?1049h\033[?25l\033[H\033[2J");
	screen_on = true;
	err = raw_mode();
	return err;
}

void sftop_term_stop(void)
{
	if (raw_on)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	raw_on = false;
	if (screen_on) {
		fflush(stdout);
		put("\033[m\033[?25h\033[?1049l");
	}
	screen_on = false;
}

int sftop_term_key(int timeout_ms)
{
	struct pollfd p = { .fd = raw_on ? STDIN_FILENO : -1,
			    .events = POLLIN };
	unsigned char c;
	ssize_t n;

	if (poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms) <= 0 || !p.revents)
		return 0;
	n = read(STDIN_FILENO, &c, 1);
	if (n == 1)
		return c;
	return n == 0 || (errno != EINTR && errno != EAGAIN) ? -1 : 0;
}

void sftop_term_suspend(void)
{
	bool raw = raw_on;

	sftop_term_stop();
	raise(SIGTSTP);
	/* Continued (SIGCONT): back to how it was. */
	if (raw)
		sftop_term_start();
	sftop_resized = 1;
}

void sftop_term_size(int *rows, int *cols)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
		return;
	}
	*rows = 24;
	*cols = 80;
}
