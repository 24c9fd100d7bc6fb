// Rendering through libgvc: real PNG/SVG/PDF files, format from the extension, errors that
// name the problem, and files written whole or not at all.
#define BOOST_TEST_MODULE render
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "autograd/error.hpp"
#include "autograd/render.hpp"
#include "autograd/value.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using ag_test::read_file;
using ag_test::TempDir;

ag::Value small_net() {
  ag::Value x(1.0, "x"), w(0.5, "w"), b(-0.25, "b");
  ag::Value y = ag::relu(x * w + b);
  y.set_label("y");
  y.backward();
  return y;
}

}  // namespace

BOOST_AUTO_TEST_CASE(renders_png_svg_and_pdf_with_valid_headers) {
  TempDir dir;
  const ag::Value y = small_net();
  ag::render_graph({y}, dir.path / "g.png");
  ag::render_graph({y}, dir.path / "g.svg");
  ag::render_graph({y}, dir.path / "g.PDF");  // extension case does not matter
  const std::string png = read_file(dir.path / "g.png");
  const std::string svg = read_file(dir.path / "g.svg");
  const std::string pdf = read_file(dir.path / "g.PDF");
  BOOST_TEST(png.size() > 1000u);
  BOOST_TEST(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  BOOST_TEST(svg.find("<svg") != std::string::npos);
  BOOST_TEST(svg.find("data 0.25") != std::string::npos);  // the text is in the picture
  BOOST_TEST(svg.find("</svg>") != std::string::npos);
  BOOST_TEST(pdf.substr(0, 5) == "%PDF-");
  BOOST_TEST(pdf.find("%%EOF") != std::string::npos);
  BOOST_TEST(dir.entries() == 3u);  // no temporary files left behind
  const bool others_can_read =
      (fs::status(dir.path / "g.png").permissions() & fs::perms::others_read) != fs::perms::none;
  BOOST_TEST(others_can_read);
}

BOOST_AUTO_TEST_CASE(unknown_extension_is_refused_and_writes_nothing) {
  TempDir dir;
  const ag::Value y = small_net();
  try {
    ag::render_graph({y}, dir.path / "g.gif");
    BOOST_FAIL("expected ag::Error");
  } catch (const ag::Error& e) {
    const std::string msg = e.what();
    BOOST_TEST(e.op() == "render");
    BOOST_TEST(msg.find("'.gif'") != std::string::npos, msg);
    BOOST_TEST(msg.find(".png, .svg or .pdf") != std::string::npos, msg);
  }
  BOOST_CHECK_THROW(ag::render_dot("digraph { a -> b }", dir.path / "no_extension"), ag::Error);
  BOOST_TEST(dir.entries() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_dot_keeps_the_old_file_and_graphviz_recovers) {
  TempDir dir;
  const fs::path out = dir.path / "g.svg";
  ag::render_dot("digraph { a -> b }", out);
  const std::string before = read_file(out);
  BOOST_TEST(before.find("<svg") != std::string::npos);
  try {
    ag::render_dot("digraph { a -> ", out);
    BOOST_FAIL("expected ag::Error");
  } catch (const ag::Error& e) {
    BOOST_TEST(std::string(e.what()).find("could not parse the DOT text") != std::string::npos,
               e.what());
  }
  BOOST_TEST(read_file(out) == before);
  BOOST_TEST(dir.entries() == 1u);
  // Graphviz's parser keeps global state: a good graph after a bad one must still render.
  ag::render_dot("digraph { c -> d }", out);
  BOOST_TEST(read_file(out).find(">c</text>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unwritable_directory_is_an_error) {
  const ag::Value y = small_net();
  BOOST_CHECK_THROW(ag::render_graph({y}, "/nonexistent_dir_for_ag_tests/g.png"), ag::Error);
}
