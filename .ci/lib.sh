# Shared by the .ci scripts; source it, do not run it.
# Needs: bash, set -euo pipefail in the caller.

# as_root runs a command as root: directly when we are root, else via sudo.
as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		echo "error: need root (or sudo) to run: $*" >&2
		return 1
	fi
}

# apt_install installs the Debian packages given that are not installed
# yet, quietly and non-interactively; it runs apt-get update only when
# something is missing.
apt_install() {
	local missing=() pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		echo "apt: all ${#} packages already installed"
		return 0
	fi
	echo "apt: installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# need_go puts the go command on PATH (trying /usr/local/go/bin) or fails
# with what to do.
need_go() {
	if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
		export PATH="$PATH:/usr/local/go/bin"
	fi
	if ! command -v go >/dev/null; then
		echo "error: no go command: install Go 1.26 or newer (https://go.dev/dl) into /usr/local/go" >&2
		return 1
	fi
	echo "go: $(go version)"
}

# go_modules downloads the module's dependencies.
go_modules() {
	go mod download
}

# build_ovnd builds ./ovnd with the version stamped in.
build_ovnd() {
	local version
	version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
	go build -ldflags "-X main.version=$version" -o ovnd .
	echo "built ./ovnd ($version)"
}
