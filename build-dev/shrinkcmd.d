build-dev/shrinkcmd.o: shrinkcmd.c run.h driver.h sched/sched.h \
 sched/event.h model/world.h sched/sched.h scenarios/scenario.h \
 scenarios/scenario.h sched/strategy.h sched/rng.h sched/trace.h json.h \
 sched/shrink.h
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
json.h:
sched/shrink.h:
