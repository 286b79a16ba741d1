build-dev/real/turnstile.o: real/turnstile.c real/turnstile.h \
 real/rts_plan.h real/sys_real.h handler/sys.h handler/uffd_compat.h \
 sched/event.h real/procfs.h
real/turnstile.h:
real/rts_plan.h:
real/sys_real.h:
handler/sys.h:
handler/uffd_compat.h:
sched/event.h:
real/procfs.h:
