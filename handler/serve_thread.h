/* serve_thread.h — a serve loop thread with its exit pipe, as the seed
 * handlers (wrenn, fc-example) run it: start makes the pipe then spawns
 * fn(arg), undoing the pipe if the spawn fails; stop writes the exit byte
 * (a full pipe already says "exit"), joins, and closes the pipe. On
 * success *thr and fds[] describe the running thread; after stop (or a
 * failed start) *thr is NULL and both fds are -1. Written against sys.h
 * only, so the sys calls (and a simulated trace) are those of the code it
 * replaced. */
#ifndef UFFDLAB_HANDLER_SERVE_THREAD_H
#define UFFDLAB_HANDLER_SERVE_THREAD_H

#include "sys.h"

int serve_thread_start(sys_t *sys, const struct sys_ops *o, sys_thread_t **thr, int fds[2],
		       void (*fn)(void *), void *arg);
int serve_thread_stop(sys_t *sys, const struct sys_ops *o, sys_thread_t **thr, int fds[2]);

#endif
