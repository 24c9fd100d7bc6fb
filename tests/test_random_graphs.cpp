// Random-graph property test: thousands of random DAGs of every op (scalar and tensor,
// broadcasting, reused nodes, Value<->Tensor bridges) must have gradients that agree with
// central finite differences (ag::gradcheck). Failures are shrunk to a minimal graph and
// printed; kept ones live in tests/data/random_graphs/ and are replayed on every run.
//
//   AG_FUZZ_GRAPHS=1000000 AG_FUZZ_SEED=7 ./test_random_graphs   # a longer run
//   AG_FUZZ_MAX_OPS=20                                             # bigger graphs
//   AG_FUZZ_SAVE_DIR=dir                                           # where failures go
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "autograd/autograd.hpp"
#include "random_graph.hpp"
#include "test_support.hpp"

namespace fz = ag::fuzz;

namespace {

using ag_test::read_file;

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

bool contains_op(const fz::RandomGraph& g, const std::string& op) {
  for (const auto& n : g.nodes)
    if (n.op == op) return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(text_form_round_trips) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    const auto g = fz::generate_graph(seed);
    const std::string text = fz::to_text(g);
    const auto back = fz::parse_graph(text);
    BOOST_TEST(fz::to_text(back) == text);
    BOOST_TEST(fz::check_graph(back).signature() == fz::check_graph(g).signature());
  }
}

BOOST_AUTO_TEST_CASE(hand_written_graph_checks) {
  // d/dx sum(log(x) * x) = log(x) + 1, and a diamond through a Value bridge.
  const auto g = fz::parse_graph(
      "n0 = tensor [2] {0.5 2}\n"
      "n1 = log n0\n"
      "n2 = mul n1 n0\n"
      "n3 = sum n2\n"
      "n4 = value_of n3\n"
      "n5 = v_mul n4 n4\n");
  const auto r = fz::check_graph(g);
  BOOST_TEST(r.outcome == fz::Outcome::Pass, r.detail);
}

BOOST_AUTO_TEST_CASE(checker_rejects_unsafe_and_malformed_graphs) {
  // log of a negative number is outside the safe domain: not a finding, just invalid.
  auto r = fz::check_graph(fz::parse_graph("n0 = tensor [1] {-1}\nn1 = log n0\n"));
  BOOST_TEST(r.outcome == fz::Outcome::Invalid);
  // relu right at its kink.
  r = fz::check_graph(fz::parse_graph("n0 = value {0.001}\nn1 = v_relu n0\n"));
  BOOST_TEST(r.outcome == fz::Outcome::Invalid);
  // Shapes that do not broadcast are malformed, whatever the engine would say.
  r = fz::check_graph(
      fz::parse_graph("n0 = tensor [2] {1 2}\nn1 = tensor [3] {1 2 3}\nn2 = add n0 n1\n"));
  BOOST_TEST(r.outcome == fz::Outcome::Invalid);
  BOOST_TEST(r.node == 2);
}

BOOST_AUTO_TEST_CASE(parser_names_the_bad_line) {
  try {
    fz::parse_graph("n0 = value {1}\nn1 = frobnicate n0\n");
    BOOST_FAIL("no error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("line 2: unknown op 'frobnicate'") != std::string::npos,
               e.what());
  }
  BOOST_CHECK_THROW(fz::parse_graph("n0 = value {1\n"), std::runtime_error);
  BOOST_CHECK_THROW(fz::parse_graph("n1 = value {1}\n"), std::runtime_error);
}

// The shrinker on a stand-in failure ("the graph contains a valid matmul"): it must end at
// the matmul and its operands only.
BOOST_AUTO_TEST_CASE(shrinker_reaches_a_minimal_graph) {
  int shrunk = 0;
  for (std::uint64_t seed = 1; seed < 3000 && shrunk < 5; ++seed) {
    const auto g = fz::generate_graph(seed);
    if (g.nodes.size() < 8 || !contains_op(g, "matmul") ||
        fz::check_graph(g).outcome != fz::Outcome::Pass)
      continue;
    int tries = 0;
    const auto small = fz::shrink_graph(
        g,
        [](const fz::RandomGraph& c) {
          return contains_op(c, "matmul") && fz::check_graph(c).outcome == fz::Outcome::Pass;
        },
        &tries);
    BOOST_TEST_MESSAGE("seed " << seed << ": " << g.nodes.size() << " nodes -> "
                               << small.nodes.size() << " in " << tries << " tries\n"
                               << fz::to_text(small));
    BOOST_TEST(contains_op(small, "matmul"));
    BOOST_TEST(small.nodes.size() <= 3u, fz::to_text(small));
    for (const auto& n : small.nodes)
      if (n.op == "tensor") BOOST_TEST(n.ints.size() <= 1u, fz::to_text(small));
    ++shrunk;
  }
  BOOST_TEST(shrunk == 5);
}

// The checker is not vacuous: relu's derivative at its kink (0 by convention) differs from the
// central difference there (0.5), and with the safe domains off that is caught and shrunk
// down to the relu alone, through the noise around it.
BOOST_AUTO_TEST_CASE(checker_catches_and_shrinks_a_wrong_gradient) {
  const auto g = fz::parse_graph(
      "n0 = tensor [2 2] {1.5 -0.5 0.75 2}\n"
      "n1 = tensor [3] {0.5 0 -1.25}\n"
      "n2 = value {0.3}\n"
      "n3 = tanh n0\n"
      "n4 = relu n1\n"
      "n5 = mul_vt n2 n4\n"
      "n6 = sum n3\n"
      "n7 = add n5 n6\n"
      "n8 = v_exp n2\n");
  BOOST_TEST(fz::check_graph(g).outcome == fz::Outcome::Invalid);  // relu at 0 is refused...
  const auto r = fz::check_graph(g, /*safe_domains=*/false);       // ...else it is a finding
  BOOST_TEST(r.outcome == fz::Outcome::GradMismatch, r.detail);
  BOOST_TEST(r.detail.find("analytic") != std::string::npos, r.detail);
  const auto small = fz::shrink_failure(g, false);
  BOOST_TEST_MESSAGE("shrunk to\n" << fz::to_text(small));
  BOOST_TEST(small.nodes.size() == 2u, fz::to_text(small));
  BOOST_TEST(contains_op(small, "relu"), fz::to_text(small));
  BOOST_TEST(fz::check_graph(small, false).outcome == fz::Outcome::GradMismatch);
}

// The second-order share is not vacuous either: abs at 0 has a first derivative that central
// differences agree with (0), but its gradient jumps there, so the gradient's own central
// difference (1e6) disagrees with the analytic second derivative (0).
BOOST_AUTO_TEST_CASE(second_order_check_catches_what_first_order_misses) {
  const auto g = fz::parse_graph(
      "n0 = tensor [2] {0 1.5}\n"
      "n1 = abs n0\n");
  BOOST_TEST(fz::check_graph(g, false).outcome == fz::Outcome::Pass);
  const auto r = fz::check_graph(g, false, /*second_order=*/true);
  BOOST_TEST(r.outcome == fz::Outcome::GradGradMismatch, r.detail);
  BOOST_TEST(r.detail.find("gradgradcheck input 0 is n0") != std::string::npos, r.detail);
  // Where abs is smooth, both orders pass.
  const auto smooth = fz::parse_graph("n0 = tensor [2] {-0.5 1.5}\nn1 = abs n0\nn2 = mul n1 n1\n");
  BOOST_TEST(fz::check_graph(smooth, true, true).outcome == fz::Outcome::Pass);
  BOOST_TEST(fz::checked_to_second_order(16));
  BOOST_TEST(!fz::checked_to_second_order(17));
}

// Every kept regression case must pass: each is a graph that once failed (or covers a case
// worth pinning), minimal, in the text form.
BOOST_AUTO_TEST_CASE(regression_corpus_replays) {
  const std::filesystem::path dir = ag_test::data_file("random_graphs");
  int replayed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".graph") continue;
    const auto g = fz::parse_graph(read_file(entry.path()));
    const auto r = fz::check_graph(g);
    BOOST_TEST(r.outcome == fz::Outcome::Pass, entry.path().filename().string()
                                                   << ": " << fz::name(r.outcome) << ": "
                                                   << r.detail << "\n"
                                                   << fz::to_text(g));
    ++replayed;
  }
  BOOST_TEST_MESSAGE("replayed " << replayed << " regression graphs");
  BOOST_TEST(replayed >= 1);
}

BOOST_AUTO_TEST_CASE(random_graphs_match_finite_differences) {
  const long count = env_long("AG_FUZZ_GRAPHS", 16000);
  const auto seed = static_cast<std::uint64_t>(env_long("AG_FUZZ_SEED", 20261123));
  const char* save = std::getenv("AG_FUZZ_SAVE_DIR");
  fz::GenerateOptions options;
  options.max_ops = static_cast<int>(env_long("AG_FUZZ_MAX_OPS", options.max_ops));
  const auto summary =
      fz::fuzz_graphs(seed, count, save ? save : "random_graph_failures", std::cout, 5, options);
  std::cout << "random graphs: " << summary.graphs << " graphs, " << summary.ops << " ops, "
            << summary.shared_nodes << " shared nodes, " << summary.ops_seen.size()
            << " distinct ops, " << summary.second_order << " checked to second order, "
            << summary.failures << " failures (first seed " << seed << ")\n";
  BOOST_TEST(summary.failures == 0,
             "random graph failures (shrunk, printed above):\n"
                 << (summary.failure_texts.empty() ? "" : summary.failure_texts[0]));
  if (summary.graphs >= 2000) {
    // The generator must reach every op and build shared subexpressions, or the test proves little.
    for (const auto& op : fz::op_names()) {
      const bool seen =
          std::find(summary.ops_seen.begin(), summary.ops_seen.end(), op) != summary.ops_seen.end();
      BOOST_TEST(seen, "op " << op << " never generated");
    }
    BOOST_TEST(summary.ops >= 3 * summary.graphs);
    BOOST_TEST(summary.second_order >= summary.graphs / static_cast<long>(fz::kSecondOrderEvery));
    BOOST_TEST(summary.shared_nodes >= summary.graphs / 4);
  }
}
