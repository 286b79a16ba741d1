build-dev/viz/files.o: viz/files.c viz/viz_impl.h model/event.h \
 sched/event.h sched/sched.h sched/trace.h viz/viz.h sched/files.h
viz/viz_impl.h:
model/event.h:
sched/event.h:
sched/sched.h:
sched/trace.h:
viz/viz.h:
sched/files.h:
