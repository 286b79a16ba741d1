build-dev/sched/dpor.o: sched/dpor.c sched/dpor.h sched/sched.h \
 sched/event.h sched/strategy.h sched/rng.h
sched/dpor.h:
sched/sched.h:
sched/event.h:
sched/strategy.h:
sched/rng.h:
