/* uffdlab.h — the command line as a library call, for handlers built
 * outside the tree.
 *
 * Contract: uffdlab_main() is the `uffdlab` command (explore, replay, viz,
 * real, list, run, ...) with its exit statuses; a program that registered
 * its own handler with handler_register() (<uffdlab/handler.h>) and then
 * calls it can explore, replay and draw that handler like a built-in one:
 *
 *     int main(int argc, char **argv)
 *     {
 *             if (handler_register(&my_handler))
 *                     return 2;
 *             return uffdlab_main(argc, argv);
 *     }
 *
 * Build with `pkg-config --cflags --libs uffdlab` after `make install`.
 */
#ifndef UFFDLAB_UFFDLAB_H
#define UFFDLAB_UFFDLAB_H

int uffdlab_main(int argc, char **argv);

#endif
