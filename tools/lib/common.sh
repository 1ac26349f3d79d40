# Shared by tools/demo, tools/test and tools/bench: find the project, install what is missing.
# Source it; it changes to the project root.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ensure_apt PACKAGE...: installs the Debian packages that are not installed yet.
ensure_apt() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_pip MODULE PACKAGE: installs PACKAGE from PyPI when python3 cannot import MODULE.
ensure_pip() {
    python3 -c "import $1" 2>/dev/null && return 0
    say "installing $2 (pip)"
    python3 -m pip install -q "$2"
}

# What every build needs: LMDB's headers and library, pkg-config to find them, SQLite for the
# benchmark's baseline target.
ensure_build_dependencies() {
    command -v swift >/dev/null || { echo "swift is not on PATH: install Swift 6 first" >&2; exit 1; }
    ensure_apt liblmdb-dev libsqlite3-dev pkg-config
}
