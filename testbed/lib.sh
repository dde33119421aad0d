# shellcheck shell=bash
# Shared helpers for the virtual lab scripts (sourced, not run).

LAB_CACHE=${TSNCTL_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tsnctl-lab}
LAB_BACKPORTS=bookworm-backports
LAB_SOURCES=/etc/apt/sources.list.d/tsnctl-lab-backports.sources

lab_die() { echo "testbed: $*" >&2; exit 2; }

# lab_say prints progress to stderr. On a terminal it is shown as it happens;
# in CI (no TTY or CI=true) only the lines marked important are printed.
lab_say() {
	if [ -t 2 ] && [ "${CI:-}" != "true" ]; then echo "testbed: $*" >&2; fi
}
lab_note() { echo "testbed: $*" >&2; }

lab_as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		lab_die "need root for: $* (run as root or install sudo)"
	fi
}

# lab_mirror prints the Debian mirror URI that the machine's own apt sources use.
lab_mirror() {
	local uri
	uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' |
		grep -v -- '-security' | grep '/debian/\?$' | head -n1)
	if [ -z "$uri" ]; then
		uri=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
			awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' |
			grep -v -- '-security' | head -n1)
	fi
	[ -n "$uri" ] || lab_die "no Debian mirror found in /etc/apt/sources.list*; add one (Debian 12 'bookworm') and retry"
	echo "$uri"
}

# lab_apt_update runs apt-get update at most once per day (and whenever asked to).
lab_apt_update() {
	local stamp=$LAB_CACHE/apt-updated
	mkdir -p "$LAB_CACHE"
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ] || [ "${1:-}" = force ]; then
		lab_say "apt-get update"
		lab_as_root apt-get update -qq >/dev/null || lab_die "apt-get update failed"
		touch "$stamp"
	fi
}

# lab_enable_backports adds bookworm-backports (same mirror as the machine uses) to apt's sources.
# Backports are NotAutomatic: nothing on the machine is upgraded by this.
lab_enable_backports() {
	if [ ! -f "$LAB_SOURCES" ]; then
		local mirror
		mirror=$(lab_mirror)
		lab_say "adding $LAB_BACKPORTS from $mirror"
		printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$mirror" "$LAB_BACKPORTS" | lab_as_root tee "$LAB_SOURCES" >/dev/null
		lab_apt_update force
	else
		lab_apt_update
	fi
}

# lab_host_install PKG... installs host packages that are missing (suite/pkg for a specific suite).
lab_host_install() {
	local missing=() p name
	for p in "$@"; do
		name=${p#*/}
		dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	lab_enable_backports
	local args=() suite
	for p in "${missing[@]}"; do
		if [[ $p == */* ]]; then suite=${p%%/*}; args+=("${p#*/}/$suite"); else args+=("$p"); fi
	done
	lab_note "installing host packages: ${args[*]}"
	DEBIAN_FRONTEND=noninteractive lab_as_root apt-get install -y -qq --no-install-recommends "${args[@]}" >/dev/null ||
		lab_die "apt-get install ${args[*]} failed"
}

# lab_qemu prints the path of a QEMU >= 8 (bookworm's 7.2 boots, but its igb PHC does not advance).
lab_qemu() {
	local q=${TSNCTL_LAB_QEMU:-qemu-system-x86_64}
	command -v "$q" >/dev/null || lab_die "QEMU not found ($q). Install it: make lab-deps (apt-get install -t $LAB_BACKPORTS qemu-system-x86)"
	local v
	v=$("$q" --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1)
	[ "${v:-0}" -ge 8 ] || lab_die "$q is version $v; the lab needs QEMU >= 8 from $LAB_BACKPORTS (apt-get install -t $LAB_BACKPORTS qemu-system-x86)"
	echo "$q"
}
