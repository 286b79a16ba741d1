build-dev/sched/trace.o: sched/trace.c sched/trace.h sched/event.h \
 sched/sched.h sched/files.h
sched/trace.h:
sched/event.h:
sched/sched.h:
sched/files.h:
