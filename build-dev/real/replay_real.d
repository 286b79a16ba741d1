build-dev/real/replay_real.o: real/replay_real.c real/replay_real.h \
 real/rts_plan.h real/sys_real.h handler/sys.h handler/uffd_compat.h \
 sched/event.h scenarios/scenario.h real/hw_oracle.h model/invariant.h \
 handler/handler.h handler/sys.h model/oracle.h model/content.h \
 real/harness.h real/region.h real/snapshot.h real/uffd.h \
 handler/uffd_compat.h real/turnstile.h
real/replay_real.h:
real/rts_plan.h:
real/sys_real.h:
handler/sys.h:
handler/uffd_compat.h:
sched/event.h:
scenarios/scenario.h:
real/hw_oracle.h:
model/invariant.h:
handler/handler.h:
handler/sys.h:
model/oracle.h:
model/content.h:
real/harness.h:
real/region.h:
real/snapshot.h:
real/uffd.h:
handler/uffd_compat.h:
real/turnstile.h:
