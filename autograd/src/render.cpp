// In-process rendering through Graphviz's libgvc (dot layout, cairo/core renderers).
#include "autograd/render.hpp"

#include <fmt/format.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <string>

#include "autograd/error.hpp"
#include "autograd/write_file.hpp"

namespace ag {
namespace {

// Graphviz keeps global state (parser, error handler): one render at a time.
std::mutex graphviz_mutex;
std::string graphviz_messages;  // guarded by graphviz_mutex

int collect_graphviz_message(char* message) {
  graphviz_messages += message;
  return 0;
}

std::string trimmed_messages() {
  std::string m = graphviz_messages;
  std::replace(m.begin(), m.end(), '\n', ' ');
  while (!m.empty() && m.back() == ' ') m.pop_back();
  return m.empty() ? "no message from Graphviz" : m;
}

// "png", "svg" or "pdf" from the file name's extension.
const char* format_of(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".png") return "png";
  if (ext == ".svg") return "svg";
  if (ext == ".pdf") return "pdf";
  throw Error("render",
              fmt::format("cannot tell the image format of '{}' from its extension '{}': use "
                          ".png, .svg or .pdf",
                          path.string(), ext));
}

GVC_t* context() {
  // Created once and kept: plugins load on first use, and freeing the context at exit races
  // with other static destructors.
  static GVC_t* gvc = gvContext();
  if (gvc == nullptr) throw Error("render", "Graphviz could not create a context (gvContext)");
  return gvc;
}

std::string render_to_memory(const std::string& dot_text, const char* format) {
  std::lock_guard lock(graphviz_mutex);
  GVC_t* gvc = context();
  graphviz_messages.clear();
  const agusererrf previous_handler = agseterrf(collect_graphviz_message);
  struct RestoreHandler {
    agusererrf handler;
    ~RestoreHandler() { agseterrf(handler); }
  } restore{previous_handler};

  std::unique_ptr<Agraph_t, int (*)(Agraph_t*)> graph(agmemread(dot_text.c_str()), agclose);
  if (!graph) {
    throw Error("render",
                fmt::format("Graphviz could not parse the DOT text: {}", trimmed_messages()));
  }
  if (gvLayout(gvc, graph.get(), "dot") != 0) {
    throw Error("render", fmt::format("Graphviz layout failed: {}", trimmed_messages()));
  }
  char* data = nullptr;
  unsigned int length = 0;
  const int status = gvRenderData(gvc, graph.get(), format, &data, &length);
  gvFreeLayout(gvc, graph.get());
  if (status != 0 || data == nullptr || length == 0) {
    if (data) gvFreeRenderData(data);
    throw Error("render",
                fmt::format("Graphviz could not render {} ({}); is its plugin installed? PNG and "
                            "PDF need the cairo plugin (Debian: libgvc6, graphviz)",
                            format, trimmed_messages()));
  }
  std::string bytes(data, length);
  gvFreeRenderData(data);
  return bytes;
}

}  // namespace

void render_dot(std::string_view dot_text, const std::filesystem::path& path) {
  const char* format = format_of(path);
  const std::string bytes = render_to_memory(std::string(dot_text), format);
  write_file_atomically(path, bytes, "render");
}

void render_graph(std::span<const GraphRoot> roots, const std::filesystem::path& path,
                  const DotOptions& options) {
  const char* format = format_of(path);  // fail before the export on a wrong name
  for (const GraphRoot& r : roots) {
    if (r.node() == nullptr) throw Error("render", "a root is an empty Value or undefined Tensor");
  }
  const std::size_t size = graph_size(roots);
  if (size > options.max_render_nodes) {
    throw Error("render", fmt::format("the graph has {} nodes, more than "
                                      "DotOptions::max_render_nodes = {} that Graphviz lays out "
                                      "in seconds; write DOT text instead (write_dot, agexpr "
                                      "--dot) or raise max_render_nodes",
                                      size, options.max_render_nodes));
  }
  const std::string bytes = render_to_memory(to_dot(roots, options), format);
  write_file_atomically(path, bytes, "render");
}

}  // namespace ag
