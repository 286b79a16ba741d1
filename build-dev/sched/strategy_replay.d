build-dev/sched/strategy_replay.o: sched/strategy_replay.c \
 sched/strategy.h sched/rng.h sched/sched.h sched/event.h
sched/strategy.h:
sched/rng.h:
sched/sched.h:
sched/event.h:
