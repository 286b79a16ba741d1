build-dev/scenarios/order.o: scenarios/order.c scenarios/parse.h \
 scenarios/lex.h scenarios/scenario.h
scenarios/parse.h:
scenarios/lex.h:
scenarios/scenario.h:
