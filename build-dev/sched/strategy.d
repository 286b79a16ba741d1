build-dev/sched/strategy.o: sched/strategy.c sched/strategy.h sched/rng.h \
 sched/sched.h sched/event.h
sched/strategy.h:
sched/rng.h:
sched/sched.h:
sched/event.h:
