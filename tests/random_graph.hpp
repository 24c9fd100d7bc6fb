#pragma once
// Random computation graphs for property testing the autograd engine against finite
// differences (tests/test_random_graphs.cpp, tools/fuzz_graphs.cpp).
//
// A graph is a straight-line program: node i is an input (a float64 tensor or a Value with
// its numbers written out) or an op over earlier nodes. Its output is the last node plus the
// sum of every other node that nothing uses, so every node reaches the gradient. The text
// form replays exactly (doubles are printed with 17 significant digits):
//
//   n0 = tensor [2 1] {0.5 1.25}
//   n1 = value {0.75}
//   n2 = add_tv n0 n1
//   n3 = sum_dim n2 [1 1]
//
// Inputs and constants are drawn so that every op is evaluated in its smooth interior (log,
// sqrt and fractional powers of values >= 0.2, no relu/abs/clamp kink or max tie within 0.02),
// so finite differences are a valid oracle; check_graph re-verifies this on every run.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace ag::fuzz {

struct NodeSpec {
  std::string op;                  // "tensor", "value" (inputs) or an op name (see to_text)
  std::vector<int> args;           // operand node indices, all smaller than this node's
  std::vector<std::int64_t> ints;  // shape, dims, keepdim flags, pick labels, reshape target
  std::vector<double> reals;       // input elements, constants, exponents, clamp bounds
};

struct RandomGraph {
  std::vector<NodeSpec> nodes;
};

std::string to_text(const RandomGraph& graph);
// Every op name the generator draws from (inputs "tensor" and "value" excluded).
std::vector<std::string> op_names();
// Parses to_text's format ('#' starts a comment). Throws std::runtime_error naming the line.
RandomGraph parse_graph(std::string_view text);

struct GenerateOptions {
  int max_ops = 12;    // ops per graph (inputs come on top)
  int max_numel = 12;  // elements per input tensor
  int max_result_numel = 36;
};
// The same seed gives the same graph.
RandomGraph generate_graph(std::uint64_t seed, const GenerateOptions& options = {});

enum class Outcome {
  Pass,
  Invalid,           // not a well-formed or safe graph (only shrinking produces these)
  Exception,         // the engine threw on a graph that is valid
  WrongShape,        // an op's result shape differs from NumPy/PyTorch semantics
  GradMismatch,      // ag::gradcheck disagrees with finite differences
  LeafMismatch,      // gradients of real Value leaves differ from those of bridged 0-d tensors
  GradGradMismatch,  // ag::gradgradcheck: second derivatives disagree with finite differences
};
const char* name(Outcome outcome);
std::ostream& operator<<(std::ostream& out, Outcome outcome);

struct CheckResult {
  Outcome outcome = Outcome::Pass;
  int node = -1;       // the node at fault, where one is known
  std::string op;      // the op at fault (a graph op, or the engine op named by ag::Error)
  std::string detail;  // human-readable explanation
  bool failed() const { return outcome != Outcome::Pass && outcome != Outcome::Invalid; }
  // Same kind of failure at the same op: what shrinking preserves.
  std::string signature() const;
};

// Validates the graph (structure, shapes, safe domains), then compares the engine's
// gradients with central differences through ag::gradcheck, and the gradients of real
// Value leaves with those of the same inputs bridged from 0-d tensors.
// With safe_domains off, kinks and domain edges are not refused (to show that the checker
// does catch the wrong gradients finite differences give there). With second_order on, the
// same function then goes through ag::gradgradcheck (create_graph gradients, differentiated
// again, against central differences of the analytic gradient).
CheckResult check_graph(const RandomGraph& graph, bool safe_domains = true,
                        bool second_order = false);

// fuzz_graphs checks one seed in kSecondOrderEvery to second order: a gradgradcheck costs a
// few first-order checks, so a share keeps the suite's time about the same.
constexpr std::uint64_t kSecondOrderEvery = 8;
bool checked_to_second_order(std::uint64_t seed);

// Delta debugging: repeatedly drops nodes, merges inputs, shrinks shapes and rounds numbers
// while `still_fails` holds. Returns the smallest graph reached; `tries` counts candidates.
RandomGraph shrink_graph(RandomGraph graph,
                         const std::function<bool(const RandomGraph&)>& still_fails,
                         int* tries = nullptr);

// Shrinks a failing graph, keeping its failure signature.
RandomGraph shrink_failure(const RandomGraph& graph, bool safe_domains = true,
                           bool second_order = false);

// Checks `count` graphs from seeds first_seed, first_seed + 1, ...; shrinks each failure,
// prints it (seed, outcome, minimal graph text) to `log` and, when save_dir is not empty,
// writes it to save_dir/seed_<seed>.graph for the regression corpus. Stops after
// max_failures failures.
struct FuzzSummary {
  long graphs = 0;
  long ops = 0;           // op nodes over all graphs
  long shared_nodes = 0;  // nodes used by two or more ops (diamonds, x * x)
  long second_order = 0;  // graphs also checked by ag::gradgradcheck
  long failures = 0;
  std::vector<std::string> failure_texts;
  std::vector<std::string> ops_seen;  // distinct op names drawn
};
FuzzSummary fuzz_graphs(std::uint64_t first_seed, long count, const std::string& save_dir,
                        std::ostream& log, int max_failures = 5,
                        const GenerateOptions& options = {});

}  // namespace ag::fuzz
