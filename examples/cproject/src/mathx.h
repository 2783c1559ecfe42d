#ifndef MATHX_H
#define MATHX_H

/* add returns a + b. */
int add(int a, int b);

/* fib returns the n-th Fibonacci number (fib(0) = 0, fib(1) = 1). */
long long fib(int n);

#endif
