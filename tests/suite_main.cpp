// The main of every suite made by ag_add_test (tests/CMakeLists.txt). The suites' own files
// define no BOOST_TEST_MODULE: they share this one main, and with it the precompiled headers
// (tests/precompiled.hpp), which a module name defined before them would change. Each run is
// named after its executable ("test_value"), as the module name named it before.
#include <boost/test/unit_test.hpp>
#include <string>

namespace {

bool name_after_executable() {
  auto& master = boost::unit_test::framework::master_test_suite();
  if (master.argc > 0) {
    std::string name = master.argv[0];
    if (auto slash = name.find_last_of('/'); slash != std::string::npos) name.erase(0, slash + 1);
    master.p_name.value = name;
  }
  return true;
}

}  // namespace

int main(int argc, char* argv[]) {
  return boost::unit_test::unit_test_main(&name_after_executable, argc, argv);
}
