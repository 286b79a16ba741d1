build-dev/sched/files.o: sched/files.c sched/files.h
sched/files.h:
