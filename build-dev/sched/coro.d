build-dev/sched/coro.o: sched/coro.c sched/coro.h
sched/coro.h:
