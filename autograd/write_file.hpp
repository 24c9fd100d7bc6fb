#pragma once
// The one way the library (and nn on top of it) writes an output file.
//
//   ag::write_file_atomically("graph.dot", text, "write_dot");
//
// - A regular file, or a name that does not exist yet, is replaced atomically: the bytes go
//   to a temporary file in the same directory, which is fsync'ed, renamed over the target, and
//   the directory fsync'ed. Readers see the old file or the new one, never a mix. On any
//   failure (a full disk, a short write, a quota, an I/O error) the old file is left as it
//   was, the temporary file is removed, and an ag::Error names `op`, the path, the size and
//   the system's reason. An existing file keeps its permission bits.
// - A symlink is followed: the file it points to is replaced the same way and the link stays.
//   A dangling symlink is refused.
// - Anything else (a terminal, /dev/stdout, a FIFO, a device node) is written through in place,
//   never replaced by a regular file; a directory is refused.
#include <filesystem>
#include <string_view>

namespace ag {

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                           std::string_view op);

}  // namespace ag
