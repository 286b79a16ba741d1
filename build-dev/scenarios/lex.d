build-dev/scenarios/lex.o: scenarios/lex.c scenarios/lex.h
scenarios/lex.h:
