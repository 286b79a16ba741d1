build-dev/sched/strategy_random.o: sched/strategy_random.c \
 sched/strategy.h sched/rng.h sched/sched.h sched/event.h
sched/strategy.h:
sched/rng.h:
sched/sched.h:
sched/event.h:
