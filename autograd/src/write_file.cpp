// Output files: atomic replacement of regular files, write-through for everything else.
#include "autograd/write_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "autograd/error.hpp"

namespace ag {
namespace {

namespace fs = std::filesystem;

struct Failure {
  std::string_view op;
  std::string target;
  std::size_t bytes;
  [[noreturn]] void operator()(std::string_view what, int error) const {
    throw Error(op, fmt::format("cannot write {} bytes to '{}': {}: {}", bytes, target, what,
                                std::strerror(error)));
  }
  [[noreturn]] void operator()(std::string_view what) const {
    throw Error(op, fmt::format("cannot write {} bytes to '{}': {}", bytes, target, what));
  }
};

// Writes all of `bytes` to fd; returns 0, or the errno of the failure. A write that stops short
// without an error (a full disk reports the rest as ENOSPC on the next call) is retried.
int write_all(int fd, std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ::ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

// A terminal, pipe, FIFO or device: written in place, as `cat > path` would.
void write_through(const fs::path& path, std::string_view bytes, const Failure& fail) {
  // O_NONBLOCK: a FIFO with no reader fails at once (ENXIO) instead of blocking forever.
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail("cannot open it for writing", errno);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (const int error = write_all(fd, bytes)) {
    ::close(fd);
    fail("write failed", error);
  }
  if (::close(fd) != 0) fail("close failed", errno);
}

void replace_atomically(const fs::path& target, std::string_view bytes, const Failure& fail) {
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // Hidden, next to the target: the rename stays on one filesystem.
  std::string name = target.filename().string();
  name.insert(0, 1, '.').append(".tmp-XXXXXX");
  std::string temp = (dir / name).string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) fail("cannot create a temporary file in '" + dir.string() + "'", errno);
  auto abandon = [&](std::string_view what, int error) {
    ::close(fd);
    ::unlink(temp.c_str());
    fail(what, error);
  };
  // mkstemp creates 0600: keep an existing file's permissions, else an ordinary file's.
  struct stat old {};
  const mode_t mode = ::stat(target.c_str(), &old) == 0 ? (old.st_mode & 07777) : 0644;
  if (::fchmod(fd, mode) != 0) abandon("chmod failed", errno);
  if (const int error = write_all(fd, bytes)) abandon("write failed", error);
  // Without fsync a crash after the rename can leave an empty or partial file under the name.
  if (::fsync(fd) != 0) abandon("fsync failed", errno);
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    fail("close failed", error);
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    fail("rename from '" + temp + "' failed", error);
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {  // makes the rename itself durable
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

bool under(const fs::path& path, std::string_view prefix) {
  return path.is_absolute() && path.string().starts_with(prefix);
}

}  // namespace

void write_file_atomically(const fs::path& path, std::string_view bytes, std::string_view op) {
  const Failure fail{op, path.string(), bytes.size()};
  if (path.empty() || path.filename().empty()) fail("the path names no file");
  std::error_code ec;
  const fs::file_status link = fs::symlink_status(path, ec);
  if (!fs::exists(link)) return replace_atomically(path, bytes, fail);
  if (fs::is_directory(link)) fail("it is a directory");
  fs::path target = path;
  if (fs::is_symlink(link)) {
    // /dev/stdout and /proc/self/fd/N lead to a descriptor (a pipe, a terminal, a file the
    // shell opened): replacing what the link resolves to would write where nobody looks.
    if (under(path, "/dev/") || under(path, "/proc/")) return write_through(path, bytes, fail);
    target = fs::canonical(path, ec);
    if (ec)
      fail("it is a symlink to a missing file (" + ec.message() + "); not replacing the link");
  }
  if (!fs::is_regular_file(fs::status(target, ec))) {
    if (fs::is_directory(fs::status(target, ec))) fail("it is a directory");
    return write_through(path, bytes, fail);
  }
  replace_atomically(target, bytes, fail);
}

}  // namespace ag
