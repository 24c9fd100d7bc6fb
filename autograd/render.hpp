#pragma once
// Renders graphs to images in-process with Graphviz (libgvc, dot layout): PNG, SVG or PDF,
// the format taken from the file extension (case-insensitive). A file is written whole or not
// at all: the image goes to a temporary file in the same directory, then is renamed.
//
//   ag::render_graph({loss}, "loss.svg");
//   ag::render_dot("digraph { a -> b }", "ab.png");
//
// Layout time grows quickly with size: keep rendered graphs to a few thousand nodes (group a
// module's nodes with ag::ScopeGuard and they collapse, see DotOptions::collapse_above).
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string_view>

#include "autograd/dot.hpp"

namespace ag {

// Lays out and renders DOT text to `path`. Throws ag::Error("render", ...) for an unknown
// extension, DOT that Graphviz rejects, or a file that cannot be written.
void render_dot(std::string_view dot_text, const std::filesystem::path& path);

// render_dot(to_dot(roots, options), path).
void render_graph(std::span<const GraphRoot> roots, const std::filesystem::path& path,
                  const DotOptions& options = {});
inline void render_graph(std::initializer_list<GraphRoot> roots, const std::filesystem::path& path,
                         const DotOptions& options = {}) {
  render_graph(std::span<const GraphRoot>(roots.begin(), roots.size()), path, options);
}

}  // namespace ag
