// libFuzzer target: the agexpr parser must either parse or throw ParseError, never crash,
// on any byte string. Also built into a corpus-replay program (fuzz_replay_main.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tools/expr/parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  try {
    const ag::expr::Expr e = ag::expr::parse(source);
    // Every operand index must point at an earlier node (post-order), or evaluation breaks.
    for (std::size_t i = 0; i < e.nodes.size(); ++i) {
      const auto& n = e.nodes[i];
      if (n.kind != ag::expr::Kind::Number && n.kind != ag::expr::Kind::Variable &&
          (n.lhs >= i || n.rhs >= i)) {
        __builtin_trap();
      }
    }
    (void)ag::expr::referenced_names(e);
  } catch (const ag::expr::ParseError& err) {
    if (err.position() > size) __builtin_trap();
    (void)ag::expr::caret_message(err.what(), source, err.position());
  }
  return 0;
}
