#ifndef GREET_H
#define GREET_H

#include <stddef.h>

/* greet writes "hello, NAME!" into buf (at most n bytes) and returns buf. */
char *greet(const char *name, char *buf, size_t n);

#endif
