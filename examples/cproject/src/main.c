#include <stdio.h>

#include "greet.h"
#include "mathx.h"
#include "version.h"

int main(int argc, char **argv)
{
	char buf[64];
	const char *name = argc > 1 ? argv[1] : "world";
	printf("%s (hello %s)\n", greet(name, buf, sizeof buf), VERSION);
	printf("fib(%d) = %lld\n", add(4, 6), fib(add(4, 6)));
	return 0;
}
