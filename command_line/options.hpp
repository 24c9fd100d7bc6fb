#pragma once
// The command line of an example program or a tool: --help, options bound to variables, range and
// membership checks, with CLI11's messages and exit statuses (CLI11 parses it). CLI11 is
// header-only, and compiling it was most of each program's compile time (newton.cpp: 8.3 of
// its 9.4 s at -O2); behind this class it is compiled once, in options.cpp.
//
//   command_line::Options options{"Newton's method, next to the closed form"};
//   int steps = 6;
//   options.add("--steps", steps, "Newton steps").range(1, 100).show_default();
//   if (auto status = options.parse(argc, argv)) return *status;  // --help, or refused
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace command_line {

// One option of an Options; its setters return it, so that they chain.
class Option {
 public:
  // The value must lie in [min, max], compared in the bounds' type (--help: "INT in [1 - 100]").
  Option& range(int min, int max);
  Option& range(long long min, long long max);
  Option& range(double min, double max);
  Option& non_negative();  // a number >= 0 ("Value -3 is negative: a number >= 0 is needed")
  Option& one_of(const std::vector<std::string>& choices);
  // A check of the text as given: `refusal` returns "" to accept it, else the message. `kind`
  // names the expected value in --help.
  Option& check(std::function<std::string(std::string&)> refusal, const std::string& kind);
  Option& show_default();  // --help shows the variable's value as it is now

 private:
  friend class Options;
  explicit Option(CLI::Option* option) : option_(option) {}
  CLI::Option* option_;
};

class Options {
 public:
  explicit Options(const std::string& description);  // the first line of --help
  ~Options();
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;

  // An option that sets `value`. Names as CLI11 reads them: "--steps"; "epochs,--epochs" is
  // also the first positional argument; "activation" is positional only.
  Option add(const std::string& names, int& value, const std::string& help);
  Option add(const std::string& names, std::int64_t& value, const std::string& help);
  Option add(const std::string& names, long long& value, const std::string& help);
  Option add(const std::string& names, std::uint64_t& value, const std::string& help);
  Option add(const std::string& names, double& value, const std::string& help);
  Option add(const std::string& names, std::string& value, const std::string& help);
  Option add(const std::string& names, std::vector<std::string>& value, const std::string& help);
  // A flag: given, it sets `value` to true ("!--no-plots": to false).
  Option flag(const std::string& names, bool& value, const std::string& help);

  // Reads the command line. nullopt: run. Otherwise --help was printed (0) or the command line
  // was refused with a message on stderr (non-zero): the status for main to return.
  std::optional<int> parse(int argc, const char* const* argv);

 private:
  std::unique_ptr<CLI::App> app_;
};

}  // namespace command_line
