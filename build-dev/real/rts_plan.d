build-dev/real/rts_plan.o: real/rts_plan.c real/rts_plan.h \
 real/sys_real.h handler/sys.h handler/uffd_compat.h sched/event.h \
 model/event.h sched/sched.h sched/trace.h
real/rts_plan.h:
real/sys_real.h:
handler/sys.h:
handler/uffd_compat.h:
sched/event.h:
model/event.h:
sched/sched.h:
sched/trace.h:
