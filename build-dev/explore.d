build-dev/explore.o: explore.c run.h driver.h sched/sched.h sched/event.h \
 model/world.h sched/sched.h scenarios/scenario.h scenarios/scenario.h \
 sched/strategy.h sched/rng.h sched/trace.h handler/handler.h \
 handler/sys.h handler/uffd_compat.h handler/variants.h json.h \
 sched/dfs.h sched/dpor.h
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
sched/dfs.h:
sched/dpor.h:
