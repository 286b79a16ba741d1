build-dev/report.o: report.c run.h driver.h sched/sched.h sched/event.h \
 model/world.h sched/sched.h scenarios/scenario.h scenarios/scenario.h \
 sched/strategy.h sched/rng.h sched/trace.h sched/files.h \
 handler/variants.h sched/shrink.h viz/viz.h sched/trace.h
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
sched/files.h:
handler/variants.h:
sched/shrink.h:
viz/viz.h:
sched/trace.h:
