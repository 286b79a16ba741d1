build-dev/sched/dfs.o: sched/dfs.c sched/dfs.h
sched/dfs.h:
