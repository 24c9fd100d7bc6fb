#pragma once
// agexpr's own functions. Every elementwise op of the library (exp, log, sin, gelu, ...) comes
// from ag::op_registry() instead, so an op added to the op table is offered here with no edit;
// this list holds only what agexpr adds: step, max/min with agexpr's tie rule, pow(a, b).
// The parser takes names and arities from both; program.cpp gives these entries their double
// and graph forms (a switch that the compiler checks is complete).
// Names are matched case-insensitively in calls (EXP(x), Relu(x)).
//
//   X(name, enumerator, arity, what the help text says)
#define AG_EXPR_FUNCTIONS(X)                                                      \
  X(step, Step, 1, "1 if x > 0 else 0 (relu's derivative); derivative 0")         \
  X(max, Max, 2,                                                                  \
    "the larger: a + relu(b - a); at a tie the gradient goes to a, so max(0, x) " \
    "is relu(x)")                                                                 \
  X(min, Min, 2, "the smaller: a - relu(a - b); at a tie the gradient goes to a") \
  X(pow, Pow, 2, "a^b")
