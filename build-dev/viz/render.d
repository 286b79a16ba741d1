build-dev/viz/render.o: viz/render.c viz/viz.h sched/trace.h \
 sched/event.h sched/sched.h sched/files.h
viz/viz.h:
sched/trace.h:
sched/event.h:
sched/sched.h:
sched/files.h:
