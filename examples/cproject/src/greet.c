#include <stdio.h>

#include "greet.h"

char *greet(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "hello, %s!", name);
	return buf;
}
