build-dev/tests/bench_jobs: tests/bench_jobs.c driver.h sched/sched.h \
 sched/event.h
driver.h:
sched/sched.h:
sched/event.h:
