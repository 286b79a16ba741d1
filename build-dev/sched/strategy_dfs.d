build-dev/sched/strategy_dfs.o: sched/strategy_dfs.c sched/strategy.h \
 sched/rng.h sched/sched.h sched/event.h
sched/strategy.h:
sched/rng.h:
sched/sched.h:
sched/event.h:
