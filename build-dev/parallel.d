build-dev/parallel.o: parallel.c run.h driver.h sched/sched.h \
 sched/event.h model/world.h sched/sched.h scenarios/scenario.h \
 scenarios/scenario.h sched/strategy.h sched/rng.h sched/trace.h
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
