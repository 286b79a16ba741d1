build-dev/scenarios/list.o: scenarios/list.c scenarios/scenario.h
scenarios/scenario.h:
