#include "mathx.h"

int add(int a, int b)
{
	return a + b;
}

long long fib(int n)
{
	long long a = 0, b = 1;
	for (int i = 0; i < n; i++) {
		long long c = a + b;
		a = b;
		b = c;
	}
	return a;
}
