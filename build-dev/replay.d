build-dev/replay.o: replay.c run.h driver.h sched/sched.h sched/event.h \
 model/world.h sched/sched.h scenarios/scenario.h scenarios/scenario.h \
 sched/strategy.h sched/rng.h sched/trace.h handler/handler.h \
 handler/sys.h handler/uffd_compat.h handler/variants.h json.h \
 scenarios/lex.h model/event.h model/version.h real/replay_real.h \
 real/rts_plan.h real/sys_real.h handler/sys.h sched/files.h
run.h:
driver.h:
sched/sched.h:
sched/event.h:
model/world.h:
sched/sched.h:
scenarios/scenario.h:
scenarios/scenario.h:
sched/strategy.h:
sched/rng.h:
sched/trace.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
handler/variants.h:
json.h:
scenarios/lex.h:
model/event.h:
model/version.h:
real/replay_real.h:
real/rts_plan.h:
real/sys_real.h:
handler/sys.h:
sched/files.h:
