build-dev/real/confirm.o: real/confirm.c real/confirm.h \
 real/replay_real.h real/rts_plan.h real/sys_real.h handler/sys.h \
 handler/uffd_compat.h sched/event.h scenarios/scenario.h real/shapes.h \
 handler/variants.h model/event.h sched/sched.h run.h driver.h \
 sched/sched.h model/world.h scenarios/scenario.h sched/strategy.h \
 sched/rng.h sched/trace.h sched/trace.h
real/confirm.h:
real/replay_real.h:
real/rts_plan.h:
real/sys_real.h:
handler/sys.h:
handler/uffd_compat.h:
sched/event.h:
scenarios/scenario.h:
real/shapes.h:
handler/variants.h:
model/event.h:
sched/sched.h:
run.h:
driver.h:
sched/sched.h:
model/world.h:
scenarios/scenario.h:
sched/strategy.h:
sched/rng.h:
sched/trace.h:
sched/trace.h:
