/* support.c - helpers shared by the unit tests (see support.h). */
