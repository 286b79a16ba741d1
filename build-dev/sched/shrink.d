build-dev/sched/shrink.o: sched/shrink.c sched/shrink.h
sched/shrink.h:
