build-dev/scenarios/ops.o: scenarios/ops.c scenarios/parse.h \
 scenarios/lex.h scenarios/scenario.h
scenarios/parse.h:
scenarios/lex.h:
scenarios/scenario.h:
