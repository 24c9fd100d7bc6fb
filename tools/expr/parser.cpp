#include "tools/expr/parser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <unordered_set>
#include <utility>

namespace ag::expr {
namespace {

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string describe(char c) {
  if (std::isprint(static_cast<unsigned char>(c))) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 15];
}

class Parser {
 public:
  explicit Parser(std::string_view source) : src_(source) {}

  Expr run() {
    skip_space();
    if (at_end()) throw ParseError("empty expression", pos_);
    parse_expr();
    skip_space();
    if (!at_end()) {
      throw ParseError("unexpected " + describe(src_[pos_]) + " after a complete expression", pos_);
    }
    Expr e;
    e.nodes = std::move(nodes_);
    e.source = std::string(src_);
    return e;
  }

 private:
  // Counts nesting on entry to every recursive rule; throws instead of recursing too deep.
  class DepthGuard {
   public:
    DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxDepth) {
        throw ParseError("expression nested deeper than " + std::to_string(kMaxDepth) + " levels",
                         p_.pos_);
      }
    }
    ~DepthGuard() { --p_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Parser& p_;
  };

  bool at_end() const { return pos_ >= src_.size(); }
  char peek() const { return at_end() ? '\0' : src_[pos_]; }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
  }
  std::size_t add(ExprNode node) {
    nodes_.push_back(std::move(node));
    return nodes_.size() - 1;
  }
  std::size_t binary(Kind kind, std::size_t lhs, std::size_t rhs, std::size_t position) {
    ExprNode n;
    n.kind = kind;
    n.lhs = lhs;
    n.rhs = rhs;
    n.position = position;
    return add(std::move(n));
  }

  std::size_t parse_expr() {
    std::size_t lhs = parse_term();
    for (;;) {
      skip_space();
      const char c = peek();
      if (c != '+' && c != '-') return lhs;
      const std::size_t op_pos = pos_++;
      const std::size_t rhs = parse_term();
      lhs = binary(c == '+' ? Kind::Add : Kind::Sub, lhs, rhs, op_pos);
    }
  }

  std::size_t parse_term() {
    std::size_t lhs = parse_unary();
    for (;;) {
      skip_space();
      const char c = peek();
      // "**" is power, handled in parse_power.
      if (c != '*' && c != '/') return lhs;
      if (c == '*' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '*') return lhs;
      const std::size_t op_pos = pos_++;
      const std::size_t rhs = parse_unary();
      lhs = binary(c == '*' ? Kind::Mul : Kind::Div, lhs, rhs, op_pos);
    }
  }

  // Every recursive cycle of the grammar passes through here, so one guard bounds them all.
  std::size_t parse_unary() {
    DepthGuard guard(*this);
    skip_space();
    const char c = peek();
    if (c == '-' || c == '+') {
      const std::size_t op_pos = pos_++;
      const std::size_t operand = parse_unary();
      if (c == '+') return operand;
      ExprNode n;
      n.kind = Kind::Negate;
      n.lhs = operand;
      n.position = op_pos;
      return add(std::move(n));
    }
    return parse_power();
  }

  std::size_t parse_power() {
    const std::size_t base = parse_primary();
    skip_space();
    std::size_t op_pos = pos_;
    if (peek() == '^') {
      ++pos_;
    } else if (peek() == '*' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '*') {
      pos_ += 2;
    } else {
      return base;
    }
    const bool base_is_e = base == euler_node_;
    const std::size_t exponent = parse_unary();  // right-associative, allows 2^-1
    if (base_is_e) {
      // e^x is exp(x): exp's own derivative, not pow's x * log(e) with log(e) rounded.
      ExprNode n;
      n.kind = Kind::Call;
      n.function = Function::LibraryOp;
      n.op = exp_op();
      n.lhs = exponent;
      n.position = op_pos;
      return add(std::move(n));
    }
    return binary(Kind::Pow, base, exponent, op_pos);
  }

  std::size_t parse_primary() {
    skip_space();
    if (at_end())
      throw ParseError("expected a number, a name or '(' but the expression ended", pos_);
    const char c = src_[pos_];
    const std::size_t start = pos_;
    if (c == '(') {
      ++pos_;
      const std::size_t inner = parse_expr();
      expect_close(start);
      return inner;
    }
    if (is_digit(c) || c == '.') return parse_number();
    if (is_name_start(c)) {
      while (!at_end() && is_name_char(src_[pos_])) ++pos_;
      const std::string_view word = src_.substr(start, pos_ - start);
      skip_space();
      const FunctionInfo* fn = find_function(word);
      if (peek() == '(') {
        if (fn == nullptr) {
          throw ParseError(
              "unknown function '" + std::string(word) + "' (known: " + function_names() + ")",
              start);
        }
        return parse_call(*fn, start);
      }
      if (fn != nullptr && fn->name == word) {
        throw ParseError(
            "'" + std::string(word) + "' is a function: write " + std::string(word) + "(...)",
            start);
      }
      ExprNode n;
      n.position = start;
      if (word == "e") {
        n.kind = Kind::Number;
        n.number = kEuler;
        euler_node_ = nodes_.size();
      } else {
        n.kind = Kind::Variable;
        n.name = std::string(word);
      }
      return add(std::move(n));
    }
    if (c == ')') throw ParseError("unexpected ')': nothing to close", pos_);
    throw ParseError("unexpected " + describe(c) + ": expected a number, a name or '('", pos_);
  }

  // name '(' expr (',' expr)? ')': the arity from the function table.
  std::size_t parse_call(const FunctionInfo& fn, std::size_t start) {
    const std::size_t open = pos_++;
    skip_space();
    if (peek() == ')') {
      throw ParseError("function '" + std::string(fn.name) + "' needs " +
                           (fn.arity == 1 ? "an argument" : "two arguments"),
                       pos_);
    }
    const std::size_t first = parse_expr();
    std::size_t second = 0;
    skip_space();
    if (fn.arity == 2) {
      if (peek() != ',') {
        throw ParseError(
            "function '" + std::string(fn.name) + "' takes two arguments, separated by ','", pos_);
      }
      ++pos_;
      second = parse_expr();
    } else if (peek() == ',') {
      throw ParseError("function '" + std::string(fn.name) + "' takes one argument", pos_);
    }
    expect_close(open);
    if (fn.function == Function::Pow) return binary(Kind::Pow, first, second, start);
    ExprNode n;
    n.kind = Kind::Call;
    n.function = fn.function;
    n.op = fn.op;
    n.lhs = first;
    n.rhs = second;
    n.position = start;
    return add(std::move(n));
  }

  std::size_t parse_number() {
    const std::size_t start = pos_;
    while (!at_end() && (is_digit(src_[pos_]) || src_[pos_] == '.')) ++pos_;
    if (!at_end() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p >= src_.size() || !is_digit(src_[p])) {
        throw ParseError("malformed number: exponent needs digits", p);
      }
      while (p < src_.size() && is_digit(src_[p])) ++p;
      pos_ = p;
    }
    const std::string_view text = src_.substr(start, pos_ - start);
    double value = 0.0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
      throw ParseError("number '" + std::string(text) + "' is out of the range of a double", start);
    }
    if (ec != std::errc() || end != text.data() + text.size()) {
      throw ParseError("malformed number '" + std::string(text) + "'", start);
    }
    if (!at_end() && is_name_start(src_[pos_])) {
      throw ParseError(
          "unexpected " + describe(src_[pos_]) + " right after a number (write 2*x, not 2x)", pos_);
    }
    ExprNode n;
    n.kind = Kind::Number;
    n.number = value;
    n.position = start;
    return add(std::move(n));
  }

  void expect_close(std::size_t open_pos) {
    skip_space();
    if (peek() == ')') {
      ++pos_;
      return;
    }
    if (at_end()) {
      throw ParseError("missing ')' for the '(' at column " + std::to_string(open_pos + 1), pos_);
    }
    throw ParseError("expected ')' but found " + describe(src_[pos_]), pos_);
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::size_t euler_node_ = static_cast<std::size_t>(-1);  // the last bare `e`
  std::vector<ExprNode> nodes_;
};

}  // namespace

namespace {
// Elementwise ops of the library that agexpr offers as functions: every unary op without a
// parameter, and the binary ones that are not already operators (+ - * /).
bool offered(const OpEntry& op) {
  if (!op.on_values || op.num_params != 0) return false;
  if (op.kind == OpKind::ElementwiseUnary) return op.arity == 1;
  if (op.kind != OpKind::ElementwiseBinary || op.arity != 2) return false;
  return op.name != "add" && op.name != "sub" && op.name != "mul" && op.name != "div";
}
}  // namespace

const std::vector<FunctionInfo>& functions() {
#define AG_EXPR_INFO(name, enumerator, arity, help) {#name, Function::enumerator, arity, help},
  static const std::vector<FunctionInfo> table = [] {
    std::vector<FunctionInfo> own{AG_EXPR_FUNCTIONS(AG_EXPR_INFO)};
    std::vector<FunctionInfo> all;
    for (const OpEntry& op : op_registry()) {
      const bool shadowed = std::any_of(own.begin(), own.end(),
                                        [&](const FunctionInfo& f) { return f.name == op.name; });
      if (offered(op) && !shadowed) {
        all.push_back({op.name, Function::LibraryOp, op.arity, "the library's op", &op});
      }
    }
    all.insert(all.end(), own.begin(), own.end());
    return all;
  }();
#undef AG_EXPR_INFO
  return table;
}

const OpEntry* exp_op() {
  static const OpEntry* op = find_function("exp")->op;
  return op;
}

std::string_view name(Function f, const OpEntry* op) {
  if (f == Function::LibraryOp) return op ? op->name : std::string_view("?");
  for (const FunctionInfo& info : functions()) {
    if (info.function == f) return info.name;
  }
  return "?";
}

std::string function_names() {
  std::string out;
  for (const FunctionInfo& info : functions()) {
    if (!out.empty()) out += ' ';
    out += info.name;
  }
  return out;
}

const FunctionInfo* find_function(std::string_view word) {
  for (const FunctionInfo& info : functions()) {
    if (info.name.size() != word.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < word.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(word[i])) == info.name[i];
    }
    if (same) return &info;
  }
  return nullptr;
}

bool is_reserved_name(std::string_view word) {
  return word == "e" || find_function(word) != nullptr;
}

Expr parse(std::string_view source) { return Parser(source).run(); }

std::string caret_message(std::string_view message, std::string_view source, std::size_t position) {
  constexpr std::size_t kHalfWindow = 60;
  position = std::min(position, source.size());
  std::size_t begin = position > kHalfWindow ? position - kHalfWindow : 0;
  std::size_t end = std::min(source.size(), position + kHalfWindow);
  std::string line = begin > 0 ? "..." : "";
  std::size_t caret = position - begin + line.size();
  for (std::size_t i = begin; i < end; ++i) {
    const char c = source[i];
    // Keep one column per byte so the caret lines up: control bytes become spaces.
    line += std::isprint(static_cast<unsigned char>(c)) ? c : ' ';
  }
  if (end < source.size()) line += "...";
  std::string out(message);
  out += "\n  ";
  out += line;
  out += "\n  ";
  out += std::string(caret, ' ');
  out += '^';
  return out;
}

std::vector<std::string> referenced_names(const Expr& expr) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  // Post-order storage is not source order; sort the variable nodes by position.
  std::vector<const ExprNode*> vars;
  for (const auto& n : expr.nodes) {
    if (n.kind == Kind::Variable) vars.push_back(&n);
  }
  std::stable_sort(vars.begin(), vars.end(),
                   [](const ExprNode* a, const ExprNode* b) { return a->position < b->position; });
  for (const ExprNode* n : vars) {
    if (seen.insert(n->name).second) names.push_back(n->name);
  }
  return names;
}

}  // namespace ag::expr
