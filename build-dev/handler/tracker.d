build-dev/handler/tracker.o: handler/tracker.c handler/tracker.h
handler/tracker.h:
