// Rendering through libgvc: real PNG/SVG/PDF files, format from the extension, errors that
// name the problem, and files written whole or not at all.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "autograd/dot.hpp"
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

namespace {

// A PNG's size from its IHDR chunk: width and height, big-endian, at bytes 16 and 20.
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& png) {
  BOOST_REQUIRE(png.size() > 24u);
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// A chain of `ops` ops from x (mixing ops and constants, as a learner's loop does).
ag::Value long_chain(int ops) {
  ag::Value x(0.5, "x");
  ag::Value h = x;
  for (int i = 0; i < ops; ++i) h = i % 3 == 0 ? tanh(h) : (i % 3 == 1 ? h * 1.1 : h + 0.1);
  h.set_label("f");
  h.backward();
  return h;
}

}  // namespace

// A 60-op chain runs off any screen in one line (over 9 000 pixels either way); wrapped into
// rows it fits 1600 x 1600 pixels, in both views (measured: 1509 x 1217 scalar, 1311 x 813
// tensor, Graphviz 2.43).
BOOST_AUTO_TEST_CASE(wrapped_layout_fits_a_long_chain_on_a_screen) {
  const ag::Value f = long_chain(60);
  TempDir dir;
  ag::DotOptions lr;
  lr.layout = ag::DotLayout::LeftToRight;
  ag::render_graph({f}, dir.path / "lr.png", lr);
  const auto [lr_width, lr_height] = png_size(read_file(dir.path / "lr.png"));
  BOOST_TEST(lr_width > 9000u);
  BOOST_TEST(lr_height < 200u);
  ag::render_graph({f}, dir.path / "tb.png");
  BOOST_TEST(png_size(read_file(dir.path / "tb.png")).second > 9000u);
  for (const ag::DotView view : {ag::DotView::Scalar, ag::DotView::Tensor}) {
    ag::DotOptions wrapped;
    wrapped.layout = ag::DotLayout::Wrapped;
    wrapped.view = view;
    ag::render_graph({f}, dir.path / "wrapped.png", wrapped);
    const auto [width, height] = png_size(read_file(dir.path / "wrapped.png"));
    BOOST_TEST_MESSAGE("wrapped: " << width << " x " << height);
    BOOST_TEST(width <= 1600u);
    BOOST_TEST(height <= 1600u);
    BOOST_TEST(width > 600u);  // rows, not one column
  }
}
