#!/usr/bin/env bash
# Builds the Debian package of repute: a Release build configured for the
# prefix /usr with Debian's hardening flags (dpkg-buildflags), the manual
# pages (pandoc required), then `cpack -G DEB`. The tests are not built: run
# them from your own build. What goes where is cmake/package.cmake.
#
# Usage: deploy/make-deb.sh [BUILD_DIR]     (default: build-deb)
# Prints the path of the .deb on standard output, everything else on
# standard error. Needs what deploy/install-deps.sh installs (dpkg-dev for
# dpkg-shlibdeps and dpkg-buildflags, pandoc).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-deb}
jobs=$(nproc 2>/dev/null || echo 2)

# Debian's flags: -fstack-protector-strong, _FORTIFY_SOURCE, relro, and
# -ffile-prefix-map for the current directory (the repository's top), which
# keeps the build path out of the binary. Release's -O3 comes after their
# -O2 and wins, as in the benchmarks' Release build.
flags() { dpkg-buildflags --get "$1" 2>/dev/null || true; }
cflags="$(flags CFLAGS) $(flags CPPFLAGS)"
ldflags=$(flags LDFLAGS)

{
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX=/usr -DREPUTE_MAN=ON -DREPUTE_TESTS=OFF \
    -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >/dev/null
  # cpack runs the install rules into its own staging directory: every
  # target they name must be built first.
  cmake --build "$build" -j"$jobs"
  rm -f "$build"/repute_*.deb
  (cd "$build" && cpack -G DEB)
} >&2
ls "$PWD/$build"/repute_*.deb
