build-dev/run.o: run.c run.h driver.h sched/sched.h sched/event.h \
 model/world.h sched/sched.h scenarios/scenario.h scenarios/scenario.h \
 sched/strategy.h sched/rng.h sched/trace.h scenarios/library.h \
 sched/files.h handler/handler.h handler/sys.h handler/uffd_compat.h \
 handler/variants.h model/event.h model/version.h
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
scenarios/library.h:
sched/files.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
handler/variants.h:
model/event.h:
model/version.h:
