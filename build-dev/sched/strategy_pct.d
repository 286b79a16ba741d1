build-dev/sched/strategy_pct.o: sched/strategy_pct.c sched/strategy.h \
 sched/rng.h sched/sched.h sched/event.h
sched/strategy.h:
sched/rng.h:
sched/sched.h:
sched/event.h:
