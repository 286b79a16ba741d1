build-dev/scenarios/write.o: scenarios/write.c scenarios/scenario.h
scenarios/scenario.h:
