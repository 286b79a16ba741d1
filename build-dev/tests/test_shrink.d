build-dev/tests/test_shrink: tests/test_shrink.c handler/variants.h \
 model/world.h sched/sched.h sched/event.h scenarios/scenario.h \
 sched/shrink.h sched/dpor.h run.h driver.h sched/sched.h model/world.h \
 scenarios/scenario.h sched/strategy.h sched/rng.h sched/trace.h \
 sched/files.h
handler/variants.h:
model/world.h:
sched/sched.h:
sched/event.h:
scenarios/scenario.h:
sched/shrink.h:
sched/dpor.h:
run.h:
driver.h:
sched/sched.h:
model/world.h:
scenarios/scenario.h:
sched/strategy.h:
sched/rng.h:
sched/trace.h:
sched/files.h:
