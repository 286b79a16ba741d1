build-dev/model/event.o: model/event.c model/event.h sched/event.h \
 sched/sched.h
model/event.h:
sched/event.h:
sched/sched.h:
