/* real/watchdog.h — the last line of defence against a hang on hardware.
 *
 * Contract: real_watchdog_arm(seconds, label) starts (or re-arms) one
 * process-wide timer; real_watchdog_disarm() stops it. If it expires, the
 * watchdog prints "watchdog: <label> still running after N s" to stderr,
 * gives back borrowed hugepages (real_hugepages_restore_now) and ends the
 * process with _exit(124). Real-kernel code waits with deadlines of its own;
 * this catches what those cannot: a handler thread that never returns, or a
 * thread stuck in the kernel that nothing can wake.
 *
 * Global state: one timer thread and its deadline, process-wide because the
 * thing it guards against is a stuck process; guarded by a mutex.
 */
#ifndef UFFDLAB_REAL_WATCHDOG_H
#define UFFDLAB_REAL_WATCHDOG_H

int real_watchdog_arm(int seconds, const char *label);
void real_watchdog_disarm(void);

#endif
