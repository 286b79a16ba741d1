build-dev/sched/strategy_guided.o: sched/strategy_guided.c \
 sched/strategy.h sched/rng.h sched/sched.h sched/event.h
sched/strategy.h:
sched/rng.h:
sched/sched.h:
sched/event.h:
