build-dev/merge.o: merge.c driver.h sched/sched.h sched/event.h json.h \
 scenarios/lex.h sched/files.h
driver.h:
sched/sched.h:
sched/event.h:
json.h:
scenarios/lex.h:
sched/files.h:
