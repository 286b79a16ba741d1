build-dev/scenarios/args.o: scenarios/args.c scenarios/parse.h \
 scenarios/lex.h scenarios/scenario.h
scenarios/parse.h:
scenarios/lex.h:
scenarios/scenario.h:
