build-dev/scenarios/directive.o: scenarios/directive.c handler/handler.h \
 handler/sys.h handler/uffd_compat.h handler/variants.h model/invariant.h \
 model/oracle.h scenarios/parse.h scenarios/lex.h scenarios/scenario.h
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
handler/variants.h:
model/invariant.h:
model/oracle.h:
scenarios/parse.h:
scenarios/lex.h:
scenarios/scenario.h:
