build-dev/scenarios/scenario.o: scenarios/scenario.c scenarios/scenario.h \
 sched/files.h scenarios/parse.h scenarios/lex.h
scenarios/scenario.h:
sched/files.h:
scenarios/parse.h:
scenarios/lex.h:
