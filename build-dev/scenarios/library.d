build-dev/scenarios/library.o: scenarios/library.c scenarios/library.h
scenarios/library.h:
