build-dev/sched/sched.o: sched/sched.c sched/sched.h sched/event.h \
 sched/coro.h sched/rng.h sched/strategy.h
sched/sched.h:
sched/event.h:
sched/coro.h:
sched/rng.h:
sched/strategy.h:
