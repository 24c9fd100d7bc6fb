#pragma once
// agexpr's functions: the one list. The parser takes names and arities from it; program.cpp
// gives each entry its double and graph forms (a switch that the compiler checks is complete).
// Names are matched case-insensitively in calls (EXP(x), Relu(x)).
//
//   X(name, enumerator, arity, what the help text says)
#define AG_EXPR_FUNCTIONS(X)                                                      \
  X(exp, Exp, 1, "e^x (also written e^x)")                                        \
  X(log, Log, 1, "natural logarithm, x > 0")                                      \
  X(sqrt, Sqrt, 1, "square root, x >= 0")                                         \
  X(tanh, Tanh, 1, "hyperbolic tangent")                                          \
  X(sigmoid, Sigmoid, 1, "1 / (1 + e^-x)")                                        \
  X(relu, Relu, 1, "max(0, x); derivative 0 at x <= 0")                           \
  X(abs, Abs, 1, "|x|; derivative 0 at x = 0")                                    \
  X(step, Step, 1, "1 if x > 0 else 0 (relu's derivative); derivative 0")         \
  X(max, Max, 2,                                                                  \
    "the larger: a + relu(b - a); at a tie the gradient goes to a, so max(0, x) " \
    "is relu(x)")                                                                 \
  X(min, Min, 2, "the smaller: a - relu(a - b); at a tie the gradient goes to a") \
  X(pow, Pow, 2, "a^b")
