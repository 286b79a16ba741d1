build-dev/viz/window.o: viz/window.c viz/viz_impl.h model/event.h \
 sched/event.h sched/sched.h sched/trace.h viz/viz.h
viz/viz_impl.h:
model/event.h:
sched/event.h:
sched/sched.h:
sched/trace.h:
viz/viz.h:
