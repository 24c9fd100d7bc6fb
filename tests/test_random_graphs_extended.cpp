// The random-graph property test (random_graph.hpp) stretched two ways:
//  - size-0 dims: every generated graph again with one input's leading dim set to 0. The
//    engine must agree with the checker's NumPy shapes and with finite differences, or refuse
//    with an ag::Error where the checker expects a refusal: never throw on a valid graph.
//  - module reuse: random stacks of Dense layers in which layers repeat (weight tying). The
//    module's parameters are its distinct layers', the gradient of a reused layer (the sum over
//    its uses) matches finite differences, and one optimizer step moves each parameter once.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "nn/nn.hpp"
#include "random_graph.hpp"

namespace fz = ag::fuzz;

namespace {

long budget(const char* variable, long fallback) {
  const char* v = std::getenv(variable);
  return v ? std::atol(v) : fallback;
}

// The graph with input `which` (a tensor input of rank >= 1) given a leading dim of 0.
fz::RandomGraph with_empty_input(fz::RandomGraph graph, std::size_t which) {
  fz::NodeSpec& input = graph.nodes[which];
  input.ints[0] = 0;
  input.reals.clear();
  return graph;
}

}  // namespace

BOOST_AUTO_TEST_CASE(graphs_with_size_0_inputs_match_or_refuse) {
  const long graphs = budget("AG_FUZZ_EMPTY_GRAPHS", 1500);
  std::map<std::string, long> outcomes;
  long failures = 0;
  for (long seed = 0; seed < graphs; ++seed) {
    const fz::RandomGraph graph = fz::generate_graph(static_cast<std::uint64_t>(seed));
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      const fz::NodeSpec& n = graph.nodes[i];
      if (n.op != "tensor" || n.ints.empty()) continue;
      const fz::RandomGraph variant = with_empty_input(graph, i);
      const fz::CheckResult r = fz::check_graph(variant);
      // The checker knows NumPy's shapes, not which reductions of nothing this library
      // refuses (mean, max: see test_empty_dims): those refusals are the expected answer.
      const bool refused_empty =
          r.outcome == fz::Outcome::Exception &&
          r.detail.find("cannot reduce an empty extent") != std::string::npos;
      ++outcomes[refused_empty ? "refused (empty reduction)" : fz::name(r.outcome)];
      if (r.failed() && !refused_empty && ++failures <= 3) {
        BOOST_ERROR("seed " << seed << ", input n" << i << " emptied: " << fz::name(r.outcome)
                            << " at " << r.op << ": " << r.detail << "\n"
                            << fz::to_text(fz::shrink_failure(variant)));
      }
      break;  // one variant per graph
    }
  }
  for (const auto& [outcome, count] : outcomes) std::cout << outcome << ": " << count << "\n";
  BOOST_TEST(failures == 0);
  BOOST_TEST(outcomes["pass"] > graphs / 10);  // size-0 graphs really were checked end to end
}

namespace {

// A stack of `uses` applications of layers drawn (with repeats) from `layers`, tanh between.
struct TiedStack {
  std::vector<std::shared_ptr<ag::nn::Dense>> layers;
  std::vector<std::size_t> order;
  ag::nn::Sequential net;
};

void make_stack(std::uint64_t seed, TiedStack& s) {
  std::mt19937_64 rng(seed);
  ag::Generator gen(seed);
  const std::size_t width = 2 + rng() % 3;
  const std::size_t distinct = 1 + rng() % 3;
  for (std::size_t k = 0; k < distinct; ++k)
    s.layers.push_back(std::make_shared<ag::nn::Dense>(
        static_cast<std::int64_t>(width), static_cast<std::int64_t>(width),
        ag::nn::Init::XavierNormal, gen, ag::float64));
  const std::size_t uses = distinct + 1 + rng() % 3;  // at least one layer repeats
  for (std::size_t u = 0; u < uses; ++u) {
    s.order.push_back(u < distinct ? u : rng() % distinct);
    s.net.add(s.layers[s.order.back()]);
    s.net.add(std::make_shared<ag::nn::Tanh>());
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(reused_modules_have_one_gradient_and_one_step) {
  const long stacks = budget("AG_FUZZ_TIED_STACKS", 200);
  for (long seed = 0; seed < stacks; ++seed) {
    TiedStack s;
    make_stack(static_cast<std::uint64_t>(seed), s);
    BOOST_REQUIRE(s.net.parameters().size() == 2 * s.layers.size());
    const std::int64_t width = s.layers[0]->in_features();
    ag::Generator gen(1000 + static_cast<std::uint64_t>(seed));
    const ag::Tensor x = ag::randn({3, width}, gen, ag::float64);
    s.net(x).sum().backward();

    // The same stack as a function of the distinct layers' tensors, for finite differences.
    std::vector<ag::Tensor> params;
    for (const auto& layer : s.layers) {
      params.push_back(layer->weight.detach());
      params.push_back(layer->bias.detach());
    }
    const auto f = [&](const std::vector<ag::Tensor>& p) {
      ag::Tensor h = x;
      for (const std::size_t k : s.order) h = ag::linear(h, p[2 * k], p[2 * k + 1]).tanh();
      return h.sum();
    };
    const ag::GradcheckResult check = ag::gradcheck(f, params);
    BOOST_REQUIRE(check.ok);  // the function itself is differentiated right
    std::vector<std::vector<double>> before;
    for (std::size_t k = 0; k < s.layers.size(); ++k) {
      for (const ag::Tensor* p : {&s.layers[k]->weight, &s.layers[k]->bias}) {
        const std::vector<double> g = p->grad().to_vector();
        const std::vector<double>& numeric = check.numeric[before.size()];
        for (std::size_t i = 0; i < g.size(); ++i)
          BOOST_TEST(std::abs(g[i] - numeric[i]) <= 1e-5 + 1e-3 * std::abs(numeric[i]),
                     "seed " << seed << " layer " << k << " element " << i << ": " << g[i] << " vs "
                             << numeric[i]);
        before.push_back(p->to_vector());
      }
    }
    ag::nn::SGD sgd(s.net.parameters(), 0.5);
    sgd.step();
    std::size_t j = 0;
    for (std::size_t k = 0; k < s.layers.size(); ++k) {
      for (const ag::Tensor* p : {&s.layers[k]->weight, &s.layers[k]->bias}) {
        const std::vector<double> now = p->to_vector();
        const std::vector<double> g = p->grad().to_vector();
        for (std::size_t i = 0; i < now.size(); ++i)
          BOOST_TEST(now[i] == before[j][i] - 0.5 * g[i], "seed " << seed << ": stepped twice?");
        ++j;
      }
    }
  }
}
