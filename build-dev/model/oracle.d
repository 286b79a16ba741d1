build-dev/model/oracle.o: model/oracle.c model/oracle.h
model/oracle.h:
