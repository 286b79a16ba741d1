build-dev/viz/hb.o: viz/hb.c viz/viz_impl.h model/event.h sched/event.h \
 sched/sched.h sched/trace.h viz/viz.h handler/sys.h \
 handler/uffd_compat.h
viz/viz_impl.h:
model/event.h:
sched/event.h:
sched/sched.h:
sched/trace.h:
viz/viz.h:
handler/sys.h:
handler/uffd_compat.h:
