#include "command_line/options.hpp"

#include <CLI/CLI.hpp>

namespace command_line {

Option& Option::range(int min, int max) {
  option_->check(CLI::Range(min, max));
  return *this;
}
Option& Option::range(long long min, long long max) {
  option_->check(CLI::Range(min, max));
  return *this;
}
Option& Option::range(double min, double max) {
  option_->check(CLI::Range(min, max));
  return *this;
}
// CLI::NonNegativeNumber is a range up to the largest double, which its refusal prints in full
// (309 digits); this one names the rule. Text that is no number is left to the conversion.
Option& Option::non_negative() {
  option_->check(CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0.0;
        if (CLI::detail::lexical_cast(text, value) && value < 0.0) {
          return "Value " + text + " is negative: a number >= 0 is needed";
        }
        return {};
      },
      "NONNEGATIVE"));
  return *this;
}
Option& Option::one_of(const std::vector<std::string>& choices) {
  option_->check(CLI::IsMember(choices));
  return *this;
}
Option& Option::check(std::function<std::string(std::string&)> refusal, const std::string& kind) {
  option_->check(CLI::Validator(std::move(refusal), kind));
  return *this;
}
Option& Option::show_default() {
  option_->capture_default_str();
  return *this;
}

Options::Options(const std::string& description) : app_(std::make_unique<CLI::App>(description)) {}
Options::~Options() = default;

Option Options::add(const std::string& names, int& value, const std::string& help) {
  return Option(app_->add_option(names, value, help));
}
Option Options::add(const std::string& names, std::int64_t& value, const std::string& help) {
  return Option(app_->add_option(names, value, help));
}
Option Options::add(const std::string& names, long long& value, const std::string& help) {
  return Option(app_->add_option(names, value, help));
}
Option Options::add(const std::string& names, std::uint64_t& value, const std::string& help) {
  return Option(app_->add_option(names, value, help));
}
Option Options::add(const std::string& names, double& value, const std::string& help) {
  return Option(app_->add_option(names, value, help));
}
Option Options::add(const std::string& names, std::string& value, const std::string& help) {
  return Option(app_->add_option(names, value, help));
}
Option Options::add(const std::string& names, std::vector<std::string>& value,
                    const std::string& help) {
  return Option(app_->add_option(names, value, help));
}
Option Options::flag(const std::string& names, bool& value, const std::string& help) {
  return Option(app_->add_flag(names, value, help));
}

std::optional<int> Options::parse(int argc, const char* const* argv) {
  try {
    app_->parse(argc, argv);
  } catch (const CLI::ParseError& e) {  // --help is one too: CLI::CallForHelp, status 0
    return app_->exit(e);
  }
  return std::nullopt;
}

}  // namespace command_line
