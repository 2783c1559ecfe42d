#include <stdio.h>
#include <string.h>

#include "greet.h"
#include "mathx.h"

static int failed, run;

static void check(int ok, const char *what)
{
	run++;
	if (!ok)
		failed++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", run, what);
}

int main(void)
{
	char buf[32];
	check(strcmp(greet("test", buf, sizeof buf), "hello, test!") == 0, "greet");
	check(strlen(greet("a very long name that does not fit", buf, sizeof buf)) == sizeof buf - 1, "greet truncates");
	check(add(2, 3) == 5, "add");
	check(fib(0) == 0 && fib(1) == 1 && fib(10) == 55 && fib(50) == 12586269025LL, "fib");
	printf("%d of %d tests passed\n", run - failed, run);
	return failed != 0;
}
