build-dev/tests/test_replay_all: tests/test_replay_all.c driver.h \
 sched/sched.h sched/event.h handler/variants.h sched/strategy.h \
 sched/rng.h sched/sched.h
driver.h:
sched/sched.h:
sched/event.h:
handler/variants.h:
sched/strategy.h:
sched/rng.h:
sched/sched.h:
