#pragma once
// Parser for agexpr's expression language. Self-contained (no engine dependency) so that the
// fuzz target links it alone.
//
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := primary (('^' | '**') unary)?        right-associative: 2^3^2 = 2^9
//   primary := number | name | 'e' | function '(' expr (',' expr)? ')' | '(' expr ')'
//
// Functions: tools/expr/functions.hpp (the one list; names case-insensitive in calls).
// `e` is Euler's number and `e^x` is exp(x); pow(a, b) is a^b. Nesting is capped (kMaxDepth)
// so that no input can overflow the stack.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/op_registry.hpp"
#include "tools/expr/functions.hpp"

namespace ag::expr {

inline constexpr int kMaxDepth = 200;

enum class Kind : std::uint8_t { Number, Variable, Negate, Add, Sub, Mul, Div, Pow, Call };
#define AG_EXPR_ENUMERATOR(name, enumerator, arity, help) enumerator,
// LibraryOp: an elementwise op of ag::op_registry(), named by FunctionInfo::op / ExprNode::op.
enum class Function : std::uint8_t { AG_EXPR_FUNCTIONS(AG_EXPR_ENUMERATOR) LibraryOp };
#undef AG_EXPR_ENUMERATOR

struct FunctionInfo {
  std::string_view name;
  Function function;
  int arity;
  std::string_view help;
  const OpEntry* op = nullptr;  // Function::LibraryOp only
};
// Every function: the library's elementwise ops (registry order), then functions.hpp's.
const std::vector<FunctionInfo>& functions();
std::string_view name(Function f, const OpEntry* op = nullptr);
// "exp log ... pow": the names, for messages.
std::string function_names();
// The function named `word`, case-insensitively; null if none.
const FunctionInfo* find_function(std::string_view word);
// Names an expression cannot use for a variable or a definition: functions and `e`.
bool is_reserved_name(std::string_view word);
// The library's exp, which e^x becomes.
const OpEntry* exp_op();
inline constexpr double kEuler = 2.718281828459045235360287;

// One node of a parsed expression. Nodes are stored children-first (post-order), so a single
// forward loop over Expr::nodes evaluates an expression without recursion.
struct ExprNode {
  Kind kind = Kind::Number;
  Function function = Function::Step;  // Kind::Call only
  const OpEntry* op = nullptr;         // Function::LibraryOp only
  double number = 0.0;                 // Kind::Number only
  std::string name;                    // Kind::Variable only
  std::size_t lhs = 0;                 // operand (unary, call) or left operand (binary)
  std::size_t rhs = 0;                 // right operand (binary, two-argument call)
  std::size_t position = 0;            // byte offset in the source, for messages
};

struct Expr {
  std::vector<ExprNode> nodes;  // the root is nodes.back()
  std::string source;
  std::size_t root() const { return nodes.size() - 1; }
};

// A malformed expression: what is wrong and the byte offset where it was found.
class ParseError : public std::runtime_error {
 public:
  ParseError(const std::string& message, std::size_t position)
      : std::runtime_error(message), position_(position) {}
  std::size_t position() const noexcept { return position_; }

 private:
  std::size_t position_;
};

// Parses a whole expression; throws ParseError for any malformed input (never crashes).
Expr parse(std::string_view source);

// "error message\n  <source>\n  <spaces>^" (long sources are cut to a window around the position).
std::string caret_message(std::string_view message, std::string_view source, std::size_t position);

// Names referenced by the expression, in order of first appearance.
std::vector<std::string> referenced_names(const Expr& expr);

}  // namespace ag::expr
