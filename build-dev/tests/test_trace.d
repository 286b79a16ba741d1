build-dev/tests/test_trace: tests/test_trace.c sched/rng.h sched/sched.h \
 sched/event.h sched/trace.h
sched/rng.h:
sched/sched.h:
sched/event.h:
sched/trace.h:
