#!/bin/sh
# Installs git-credential-pat and configures git to consult it first (DESIGN.md §7).
# Run ./install.sh --help for the options. POSIX sh; no sudo.
set -eu

me=install.sh
# A transient credential.helper value that keeps git's [credential] section in place while
# install.sh rewrites the helper list (git drops a section whose last key is removed).
placeholder=git-credential-pat-install-placeholder
tab=$(printf '\t')
# How the messages name the home directory (a profile line is read by a shell, which expands it).
tilde='~'

usage() {
	cat <<'EOF'
Usage: ./install.sh [--prefix=DIR] [--no-configure] [--force-old-git] [--uninstall]

Installs git-credential-pat into DIR/bin (default ~/.local/bin), with its man page and
shell completions when the source tree has them, and configures git globally
(git config --global) so that pat is the first credential helper consulted. Helpers that
applied before are kept, after pat. Running it again changes nothing. Needs git 2.46 or
newer (the first git on PATH).

  --prefix=DIR, --prefix DIR  install under DIR (default: ~/.local)
  --no-configure              install the files only; leave the git configuration alone
  --force-old-git             install even though git is older than 2.46 (it then sends no
                              authtype or capability[]; before 2.40 it ignores token expiry)
  --uninstall                 remove the installed files and restore the credential.helper
                              configuration recorded at install (stored tokens are kept)
  -h, --help                  show this help

Where the files go, with the default prefix:
  ~/.local/bin/git-credential-pat, ~/.local/share/man/man1/git-credential-pat.1,
  bash: ${BASH_COMPLETION_USER_DIR:-${XDG_DATA_HOME:-~/.local/share}/bash-completion}/completions/
  zsh:  ~/.local/share/zsh/site-functions/
  fish: ${XDG_CONFIG_HOME:-~/.config}/fish/completions/
With --prefix=DIR: DIR/bin, DIR/share/man/man1, DIR/share/bash-completion/completions,
DIR/share/zsh/site-functions and DIR/share/fish/vendor_completions.d. A completion file
already there that install.sh did not put there is left alone. install.sh says what, if
anything, each shell needs to find them (bash-completion is looked for in the usual places,
or at $GIT_CREDENTIAL_PAT_BASH_COMPLETION).

The binary: $GIT_CREDENTIAL_PAT_BIN when set; otherwise target/release/git-credential-pat
(or $CARGO_TARGET_DIR/release/...) when it is newer than every source file; otherwise
`cargo build --release --locked`.

What install.sh changed is recorded in
${XDG_DATA_HOME:-~/.local/share}/git-credential-pat/install-state.
EOF
}

say() { printf '%s\n' "$*"; }
say_err() { printf '%s\n' "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$me" "$*" >&2; }
die() {
	printf '%s: %s\n' "$me" "$*" >&2
	exit 1
}
usage_error() {
	printf '%s: %s (see ./install.sh --help)\n' "$me" "$*" >&2
	exit 2
}

# Prints $1 as a single shell word, quoted only when it needs to be.
shell_quote() {
	case $1 in
	'') printf "''" ;;
	*[!A-Za-z0-9_./:@%+,=-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}

# Prints $1 as a single fish word, quoted only when it needs to be.
fish_quote() {
	case $1 in
	'') printf "''" ;;
	*[!A-Za-z0-9_./:@%+,=-]*) printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}

# Prints "$1:$VAR" for an export line in a POSIX shell profile, double-quoted when $1 allows.
path_value() {
	case $1 in
	*[\"\$\`\\]*) printf '%s:"$%s"' "$(shell_quote "$1")" "$2" ;;
	*) printf '"%s:$%s"' "$1" "$2" ;;
	esac
}

# Prints a credential.helper value that runs the absolute path $1. Git treats a value as a
# path only when its first character is '/', so any quoting starts after that slash.
helper_for_path() {
	case $1 in
	*[!A-Za-z0-9_./:@%+,=-]*) printf '/%s' "$(shell_quote "${1#/}")" ;;
	*) printf '%s' "$1" ;;
	esac
}

# Succeeds when the credential.helper value $1 runs git-credential-pat (as `pat ...` or by an
# absolute path); sets found_args to the arguments that follow it.
names_pat() {
	case $1 in
	pat) found_args= ;;
	"pat "* | "pat$tab"*) found_args=${1#pat?} ;;
	"/'"*"/git-credential-pat'") found_args= ;;
	"/'"*"/git-credential-pat' "* | "/'"*"/git-credential-pat'$tab"*) found_args=${1#*"/git-credential-pat'"?} ;;
	/*)
		first=${1%%[ "$tab"]*}
		case $first in
		*"'"* | *'"'* | *\\*) return 1 ;;
		*/git-credential-pat) found_args=${1#"$first"} ;;
		*) return 1 ;;
		esac
		;;
	*) return 1 ;;
	esac
	found_args=${found_args#"${found_args%%[! "$tab"]*}"}
	return 0
}

# Copies the helper values in file $1 to file $2, leaving out those that run pat.
drop_pat() {
	: >"$2"
	while IFS= read -r v; do
		names_pat "$v" || printf '%s\n' "$v" >>"$2"
	done <"$1"
}

# Prints the physical path of directory $1, or nothing when it does not exist.
physical_dir() {
	(cd "$1" 2>/dev/null && pwd -P) || true
}

# Prints the physical path of file $1.
physical_file() {
	printf '%s/%s' "$(physical_dir "$(dirname "$1")")" "${1##*/}"
}

# Creates directory $1 and its missing parents, recording each one created in $tmp/dirs.
make_dir() {
	[ ! -d "$1" ] || return 0
	make_dir "$(dirname "$1")"
	mkdir "$1" 2>/dev/null || die "cannot create directory $1 (permission denied?)"
	printf '%s\n' "$1" >>"$tmp/dirs"
}

# Installs file $1 as $2 with mode $3 (atomically; untouched when already identical).
install_file() {
	make_dir "$(dirname "$2")"
	printf '%s\n' "$2" >>"$tmp/files"
	if [ -f "$2" ] && [ ! -L "$2" ] && cmp -s "$1" "$2"; then
		chmod "$3" "$2"
		say "  unchanged  $2"
		return 0
	fi
	if ! { cp "$1" "$2.tmp.$$" && chmod "$3" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"; }; then
		rm -f "$2.tmp.$$"
		die "cannot install $2"
	fi
	say "  installed  $2"
}

# Prints the first of the files "$src/$1", "$src/$2", ... that exists.
shipped() {
	for f in "$@"; do
		if [ -f "$src/$f" ]; then
			printf '%s' "$src/$f"
			return 0
		fi
	done
}

# Sets bin_src to the binary to install: $GIT_CREDENTIAL_PAT_BIN, a release binary newer
# than the sources, or a fresh `cargo build --release --locked`.
pick_binary() {
	if [ -n "${GIT_CREDENTIAL_PAT_BIN:-}" ]; then
		bin_src=$GIT_CREDENTIAL_PAT_BIN
		if [ ! -f "$bin_src" ] || [ ! -x "$bin_src" ]; then
			die "GIT_CREDENTIAL_PAT_BIN=$bin_src is not an executable file"
		fi
		say "Using the prebuilt binary $bin_src (GIT_CREDENTIAL_PAT_BIN)."
		return 0
	fi
	[ -f "$src/Cargo.toml" ] ||
		die "no Cargo.toml in $src: run install.sh from the source tree, or set GIT_CREDENTIAL_PAT_BIN to a built binary"
	target=${CARGO_TARGET_DIR:-$src/target}
	case $target in /*) ;; *) target=$PWD/$target ;; esac
	bin_src=$target/release/git-credential-pat
	set --
	for f in src Cargo.toml Cargo.lock build.rs; do
		if [ -e "$src/$f" ]; then set -- "$@" "$src/$f"; fi
	done
	if [ -f "$bin_src" ] && [ -x "$bin_src" ]; then
		newer=$(find "$@" -newer "$bin_src" -print 2>/dev/null | head -n 1)
		if [ -z "$newer" ]; then
			say "Using the release binary already built: $bin_src (newer than every source file)."
			return 0
		fi
		say "The release binary $bin_src is older than $newer: rebuilding."
	fi
	command -v cargo >/dev/null 2>&1 ||
		die "cargo not found: install Rust (https://rustup.rs), or set GIT_CREDENTIAL_PAT_BIN to a built git-credential-pat"
	say "Building: cargo build --release --locked (in $src)"
	(cd "$src" && cargo build --release --locked) >&2 ||
		die "cargo build --release --locked failed (see above)"
	[ -x "$bin_src" ] ||
		die "cargo built, but $bin_src is missing (is build.target-dir set?): set CARGO_TARGET_DIR or GIT_CREDENTIAL_PAT_BIN"
}

# Prints the global config file `git config --global` writes to.
global_config_file() {
	if [ -n "${GIT_CONFIG_GLOBAL+set}" ]; then
		printf '%s' "$GIT_CONFIG_GLOBAL"
		return 0
	fi
	xdg=${XDG_CONFIG_HOME:-$HOME/.config}/git/config
	if [ ! -e "$HOME/.gitconfig" ] && [ -e "$xdg" ]; then
		printf '%s' "$xdg"
	else
		printf '%s' "$HOME/.gitconfig"
	fi
}

# Writes to $1 the global credential.helper values (the config file itself, no includes),
# one per line.
read_global_helpers() {
	git config --global --get-all credential.helper >"$1" || {
		rc=$?
		[ "$rc" -eq 1 ] || die "cannot read the global git config $config_file (git config exited with $rc)"
	}
}

# Writes to $tmp/applied the credential.helper values that apply outside any repository
# (system and global config, includes followed, empty values resetting the list), one
# "scope<TAB>value" per line. Refuses values containing a newline.
read_applied_helpers() {
	git config -z --show-scope --get-all credential.helper >"$tmp/all-z" || {
		rc=$?
		[ "$rc" -eq 1 ] || die "cannot read the git configuration (git config exited with $rc; git 2.26 or newer is needed)"
	}
	# With -z, entries are "scope NUL value NUL": turn NULs into line ends and the newlines
	# inside values into \001, so that a value with a newline can be spotted.
	tr '\012\000' '\001\012' <"$tmp/all-z" | awk '
		NR % 2 == 1 { scope = $0; next }
		scope != "system" && scope != "global" { next }
		index($0, "\001") { bad = 1; next }
		$0 == "" { n = 0; next }
		{ s[++n] = scope; v[n] = $0 }
		END {
			if (bad) exit 3
			for (i = 1; i <= n; i++) printf "%s\t%s\n", s[i], v[i]
		}' >"$tmp/applied" ||
		die "a credential.helper value contains a newline, which install.sh cannot record: fix it with git config --global --edit (or in the system config)"
}

# Rewrites every credential.helper value of the config named by $1 (--global or
# --file=PATH) to the values listed in file $2, one per line, keeping the [credential]
# section where it is. A section left without keys disappears, as git does on --unset.
set_helpers() {
	git config "$1" --add credential.helper "$placeholder" &&
		{ git config "$1" --unset-all credential.helper "!^$placeholder\$" || [ $? -eq 5 ]; } || return 1
	while IFS= read -r v; do
		git config "$1" --add credential.helper "$v" || return 1
	done <"$2"
	git config "$1" --unset credential.helper "^$placeholder\$"
}

# Rewrites the global credential.helper list to the values in file $1, or dies.
set_global_helpers() {
	set_helpers --global "$1" ||
		die "git config failed while rewriting credential.helper in $config_file: check it with git config --global --edit"
}

# Prints the values in file $1 as credential.helper lines.
print_helpers() {
	if [ ! -s "$1" ]; then
		say "    (none)"
		return 0
	fi
	while IFS= read -r v; do
		say "    credential.helper = $v"
	done <"$1"
}

# Explains how the helpers that applied before (file $tmp/kept, "scope<TAB>value") and the
# URL-specific ones interact with pat.
report_helpers() {
	say "Git consults, in order (credential.helper in $config_file):"
	say "    credential.helper =             (empty: resets the helpers inherited from the system config)"
	say "    credential.helper = $pat_entry   (git-credential-pat, consulted first)"
	while IFS= read -r line; do
		say "    credential.helper = ${line#*"$tab"}   (from the ${line%%"$tab"*} config)"
	done <"$tmp/kept"
	if [ -s "$tmp/kept" ]; then
		say "No helper comes before pat. The ones that applied before come after it, so nothing is lost:"
	else
		say "No other helper applied before, so pat is the only one."
	fi
	while IFS= read -r line; do
		v=${line#*"$tab"}
		case $v in
		store | "store "* | "store$tab"*)
			warn "'$v' comes after pat: git hands it every token it uses, so it keeps a plain-text copy of each in ~/.git-credentials (or the file given with --file)."
			warn "  Move those tokens into pat with: git credential-pat import"
			warn "  then drop the helper with: git config --global --fixed-value --unset-all credential.helper $(shell_quote "$v")"
			;;
		cache | "cache "* | "cache$tab"*)
			say "  '$v': harmless but redundant: pat answers first, and cache only keeps a copy in memory for a while."
			;;
		*)
			say "  '$v': consulted only when pat has no token for the URL; git also hands it every token it stores."
			;;
		esac
	done <"$tmp/kept"
	git config --show-scope --get-regexp '^credential\..+\.helper$' >"$tmp/url-helpers" 2>/dev/null || true
	grep -E "^(system|global)$tab" "$tmp/url-helpers" >"$tmp/url-helpers-kept" || true
	if [ -s "$tmp/url-helpers-kept" ]; then
		say "URL-specific helpers were left as they are; for matching URLs git consults them after pat:"
		while IFS= read -r line; do
			key=${line#*"$tab"}
			key=${key%% *}
			v=${line#*"$tab$key"}
			v=${v# }
			say "    $key = $v"
			if [ -z "$v" ]; then
				warn "$key is empty: it resets the helper list for those URLs, so git does not consult pat there."
			fi
		done <"$tmp/url-helpers-kept"
	fi
}

# Reads the state file into st_* variables and the list files $tmp/st-files, st-dirs,
# st-before, st-after. Fails when there is no state file.
read_state() {
	: >"$tmp/st-files"
	: >"$tmp/st-dirs"
	: >"$tmp/st-before"
	: >"$tmp/st-after"
	st_version='' st_prefix='' st_configured=no st_config_file='' st_config_existed=yes st_had_section=yes st_had_helper=yes
	[ -f "$state" ] || return 1
	while IFS= read -r line || [ -n "$line" ]; do
		v=${line#*=}
		case $line in
		'#'* | '') ;;
		version=*) st_version=$v ;;
		prefix=*) st_prefix=$v ;;
		file=*) printf '%s\n' "$v" >>"$tmp/st-files" ;;
		dir=*) printf '%s\n' "$v" >>"$tmp/st-dirs" ;;
		configured=*) st_configured=$v ;;
		config_file=*) st_config_file=$v ;;
		config_existed=*) st_config_existed=$v ;;
		had_section=*) st_had_section=$v ;;
		had_helper=*) st_had_helper=$v ;;
		before=*) printf '%s\n' "$v" >>"$tmp/st-before" ;;
		after=*) printf '%s\n' "$v" >>"$tmp/st-after" ;;
		*)
			[ "$st_version" = 1 ] || break
			die "$state: unreadable line '${line%%=*}': fix it by hand, or remove it to uninstall without it"
			;;
		esac
	done <"$state"
	[ "$st_version" = 1 ] || die "$state: unknown format version '$st_version' (written by a newer install.sh?)"
}

# Writes the state file from st_* and the list files (atomically, mode 0600).
write_state() {
	{
		say "# git-credential-pat install state: written by install.sh, read by install.sh --uninstall."
		say "# One key=value per line, the value running to the end of the line; list keys repeat, in order."
		say "version=1"
		say "prefix=$st_prefix"
		awk '!seen[$0]++ { print "file=" $0 }' "$tmp/st-files"
		awk '!seen[$0]++ { print "dir=" $0 }' "$tmp/st-dirs"
		say "configured=$st_configured"
		if [ "$st_configured" = yes ]; then
			say "config_file=$st_config_file"
			say "config_existed=$st_config_existed"
			say "had_section=$st_had_section"
			say "had_helper=$st_had_helper"
			sed 's/^/before=/' "$tmp/st-before"
			sed 's/^/after=/' "$tmp/st-after"
		fi
	} >"$tmp/state"
	if [ -f "$state" ] && cmp -s "$tmp/state" "$state"; then
		return 0
	fi
	if ! { (umask 077 && cp "$tmp/state" "$state.tmp") && mv -f "$state.tmp" "$state"; }; then
		rm -f "$state.tmp"
		die "cannot write $state"
	fi
}

# Whether directory $1 is, physically or by name, one of the directories listed in $2
# (colon-separated).
dir_in_list() {
	want=$(physical_dir "$1")
	set -f
	old_ifs=$IFS
	IFS=:
	# shellcheck disable=SC2086 # the list is split on colons, with globbing off
	set -- "$1" $2
	IFS=$old_ifs
	set +f
	name=$1
	shift
	for d in "$@"; do
		case $d in /*) ;; *) continue ;; esac
		while :; do
			case $d in
			/) break ;;
			*/) d=${d%/} ;;
			*) break ;;
			esac
		done
		if [ -n "$want" ]; then
			[ "$(physical_dir "$d")" != "$want" ] || return 0
		else
			[ "$d" != "$name" ] || return 0
		fi
	done
	return 1
}

# Whether $bin_dir is on PATH (sets on_path to yes or no). Works before $bin_dir exists.
check_path() {
	on_path=no
	if dir_in_list "$bin_dir" "${PATH:-}"; then on_path=yes; fi
}

# The credential.helper value that runs the installed binary: `pat` when git finds this
# binary by that name, else its absolute path.
choose_pat_command() {
	pat_cmd=$(helper_for_path "$dest")
	[ "$on_path" = yes ] || return 0
	mine=$(physical_file "$dest")
	exec_path=$(git --exec-path 2>/dev/null || true)
	if [ -n "$exec_path" ] && [ -e "$exec_path/git-credential-pat" ] && [ "$(physical_file "$exec_path/git-credential-pat")" != "$mine" ]; then
		warn "git finds $exec_path/git-credential-pat before $dest: configuring git with the absolute path."
		return 0
	fi
	found=$(command -v git-credential-pat 2>/dev/null || true)
	if [ -n "$found" ] && [ "$(physical_file "$found")" != "$mine" ]; then
		warn "$found comes before $dest on PATH: configuring git with the absolute path."
		return 0
	fi
	pat_cmd=pat
}

configure_git() {
	command -v git >/dev/null 2>&1 || die "git not found on PATH: install git, or use --no-configure"
	config_file=$(global_config_file)
	read_applied_helpers
	read_global_helpers "$tmp/global"
	choose_pat_command

	# pat first (keeping the options of an entry that named pat already), then every other
	# helper that applied, in order.
	pat_args='' seen_pat=no
	: >"$tmp/kept"
	while IFS= read -r line; do
		if names_pat "${line#*"$tab"}"; then
			if [ "$seen_pat" = no ]; then pat_args=$found_args seen_pat=yes; fi
		else
			printf '%s\n' "$line" >>"$tmp/kept"
		fi
	done <"$tmp/applied"
	pat_entry=$pat_cmd${pat_args:+ $pat_args}
	{
		say ""
		say "$pat_entry"
		cut -f 2- "$tmp/kept"
	} >"$tmp/desired"

	if cmp -s "$tmp/desired" "$tmp/global"; then
		say "Git is already configured: nothing to change in $config_file."
		report_helpers
		return 0
	fi

	if [ "$st_configured" != yes ]; then
		# First configuration: remember what to restore on --uninstall.
		st_configured=yes
		st_config_file=$config_file
		st_config_existed=no st_had_section=no st_had_helper=no
		if [ -e "$config_file" ]; then
			st_config_existed=yes
			if grep -Eiq '^[[:space:]]*\[credential\]' "$config_file"; then st_had_section=yes; fi
			# Will --uninstall give back this very file? Try it on a copy.
			cp "$config_file" "$tmp/sim"
			if ! { set_helpers "--file=$tmp/sim" "$tmp/desired" && set_helpers "--file=$tmp/sim" "$tmp/global"; } 2>/dev/null ||
				! cmp -s "$config_file" "$tmp/sim"; then
				say "Note: your credential.helper lines in $config_file are not in git's own layout; --uninstall will restore the same helpers, in git's layout."
			fi
		fi
		if [ -s "$tmp/global" ]; then st_had_helper=yes; fi
		cp "$tmp/global" "$tmp/st-before"
	fi
	cp "$tmp/desired" "$tmp/st-after"
	write_state
	set_global_helpers "$tmp/desired"
	say "Configured git: $config_file"
	report_helpers
}

# Sets git_major and git_minor from a `git --version` line ($1); fails when it has none.
parse_git_version() {
	v=${1#git version }
	git_major=${v%%.*}
	rest=${v#*.}
	git_minor=${rest%%[!0-9]*}
	case $git_major in '' | *[!0-9]*) return 1 ;; esac
	case $git_minor in '' | *[!0-9]*) return 1 ;; esac
}

# Succeeds when the `git --version` line $1 is git 2.46 or newer.
new_enough() {
	parse_git_version "$1" || return 1
	[ "$git_major" -gt 2 ] || { [ "$git_major" -eq 2 ] && [ "$git_minor" -ge 46 ]; }
}

# Prints "PATH<TAB>version line" for the first git 2.46 or newer, other than $1, in a
# directory on PATH or in the usual places for a newer one.
find_newer_git() {
	mine=$(physical_file "$1")
	set -f
	old_ifs=$IFS
	IFS=:
	# shellcheck disable=SC2086 # PATH is split on colons, with globbing off
	set -- $PATH /usr/local/bin /opt/homebrew/bin /home/linuxbrew/.linuxbrew/bin "$HOME/.local/bin"
	IFS=$old_ifs
	set +f
	for d in "$@"; do
		case $d in /*) ;; *) continue ;; esac
		g=${d%/}/git
		if [ ! -f "$g" ] || [ ! -x "$g" ]; then continue; fi
		[ "$(physical_file "$g")" != "$mine" ] || continue
		line=$("$g" --version 2>/dev/null) || continue
		if new_enough "$line"; then
			printf '%s\t%s' "$g" "$line"
			return 0
		fi
	done
}

# Refuses, before anything is changed, a git older than 2.46 (unless --force-old-git) and a
# missing git when git is to be configured.
check_git() {
	git_path=$(command -v git 2>/dev/null) || git_path=
	if [ -z "$git_path" ]; then
		[ "$configure" = no ] ||
			die "git not found on PATH: install git 2.46 or newer (https://git-scm.com/downloads), or use --no-configure. Nothing was changed."
		return 0
	fi
	git_line=$(git --version 2>/dev/null) || git_line=
	[ -n "$git_line" ] || die "$git_path does not run (git --version failed): fix or reinstall git. Nothing was changed."
	new_enough "$git_line" && return 0
	if [ "$force_old_git" = yes ]; then
		warn "!!! the first git on PATH, $git_path, is $git_line, older than 2.46: installing anyway (--force-old-git)."
		warn "!!! With this git, pat gets no authtype or capability[] (Bearer credentials), and a git older"
		warn "!!! than 2.40 also ignores token expiry (password_expiry_utc). \`git credential-pat doctor\`"
		warn "!!! reports it until git is upgraded."
		old_git_forced=yes
		return 0
	fi
	newer=$(find_newer_git "$git_path")
	say_err "$me: the first git on PATH, $git_path, is $git_line; git-credential-pat needs git 2.46 or newer. Nothing was changed."
	if [ -n "$newer" ]; then
		newer_dir=$(dirname "${newer%%"$tab"*}")
		say_err "  A newer git is already installed: ${newer%%"$tab"*} (${newer#*"$tab"})."
		say_err "  Put $newer_dir before $(dirname "$git_path") on PATH, for example:"
		say_err "    export PATH=$(path_value "$newer_dir" PATH)"
	fi
	say_err "  A newer git comes from:"
	say_err "    Debian 12 (bookworm): its git is 2.39 and bookworm-backports has no git: upgrade to Debian 13 (trixie, git 2.47), or build it (below)."
	say_err "    Ubuntu: sudo add-apt-repository ppa:git-core/ppa && sudo apt update && sudo apt install git"
	say_err "    macOS: brew install git (Homebrew, https://brew.sh), with \"\$(brew --prefix)/bin\" before /usr/bin on PATH"
	say_err "    anywhere: the source from https://git-scm.com/downloads, built with: make prefix=\$HOME/.local install"
	say_err "  Then make sure \`command -v git\` prints the new one and run ./install.sh again."
	say_err "  (./install.sh --force-old-git installs anyway: pat then works without authtype, and without token expiry before git 2.40.)"
	exit 1
}

# Sets profile (how to name the file the user's shell reads at startup, from $SHELL) and
# shell_name.
pick_profile() {
	shell_name=${SHELL:-}
	shell_name=${shell_name##*/}
	case $shell_name in
	bash)
		if [ "$(uname -s 2>/dev/null)" = Darwin ]; then profile=$tilde/.bash_profile; else profile=$tilde/.bashrc; fi
		;;
	zsh)
		if [ -n "${ZDOTDIR:-}" ]; then profile=$ZDOTDIR/.zshrc; else profile=$tilde/.zshrc; fi
		;;
	fish) profile=$tilde/.config/fish/config.fish ;;
	*)
		shell_name=${shell_name:-sh}
		profile=$tilde/.profile
		;;
	esac
}

# Says, first of all, that $bin_dir is not on PATH and the line that puts it there.
path_notice() {
	if [ "$configure" = yes ]; then
		warn "$bin_dir is not on PATH: \`git credential-pat\` and \`git-credential-pat\` are not found by name, so git is configured with the absolute path."
	else
		warn "$bin_dir is not on PATH: \`git credential-pat\` and \`git-credential-pat\` are not found by name."
	fi
	if [ "$shell_name" = fish ]; then
		say_err "  To put it on PATH, run this once in fish (it is remembered), then open a new shell:"
		say_err "    fish_add_path $(fish_quote "$bin_dir")"
	else
		say_err "  To put it on PATH, add this line to $profile (your shell: $shell_name), then open a new shell:"
		say_err "    export PATH=$(path_value "$bin_dir" PATH)"
	fi
}

# Installs file $1 as $2 (mode 644) unless a file install.sh did not put there is in the
# way (a completion of the user's own, say): then that one is left alone. Sets kept_own to
# yes or no.
install_own_file() {
	kept_own=no
	if [ -e "$2" ] || [ -L "$2" ]; then
		if ! grep -Fqx -e "$2" "$tmp/st-files"; then
			kept_own=yes
			say "  kept       $2 (not installed by install.sh: left alone)"
			return 0
		fi
	fi
	install_file "$1" "$2" 644
}

# Succeeds when bash-completion is installed; sets bash_completion_main to its script.
find_bash_completion() {
	if [ -n "${GIT_CREDENTIAL_PAT_BASH_COMPLETION:-}" ]; then
		set -- "$GIT_CREDENTIAL_PAT_BASH_COMPLETION"
	else
		set -- /usr/share/bash-completion/bash_completion /usr/local/share/bash-completion/bash_completion \
			/opt/homebrew/share/bash-completion/bash_completion /opt/homebrew/etc/profile.d/bash_completion.sh \
			/usr/local/etc/profile.d/bash_completion.sh /opt/local/share/bash-completion/bash_completion \
			/run/current-system/sw/share/bash-completion/bash_completion
	fi
	for f in "$@"; do
		if [ -f "$f" ]; then
			bash_completion_main=$f
			return 0
		fi
	done
	return 1
}

# Says how each shell finds the completions installed under $bash_dest, $zsh_dest and
# $fish_dest (those that were installed), and the line to add when it does not by default.
completion_hints() {
	[ -n "$bash_dest$zsh_dest$fish_dest" ] || return 0
	say "Completions:"
	if [ -n "$bash_dest" ]; then
		bash_dir=$(dirname "$bash_dest")
		# bash-completion also looks in DIR/bash-completion/completions for each DIR in
		# XDG_DATA_DIRS.
		searched=''
		set -f
		old_ifs=$IFS
		IFS=:
		for d in ${XDG_DATA_DIRS:-/usr/local/share:/usr/share}; do
			searched=$searched:${d%/}/bash-completion/completions
		done
		IFS=$old_ifs
		set +f
		if ! find_bash_completion; then
			say "  bash: bash-completion is not installed, so bash does not load completions on demand."
			say "    Install it (Debian/Ubuntu: apt install bash-completion), or add this line to ~/.bashrc:"
			say "    [ -f $(shell_quote "$bash_dest") ] && . $(shell_quote "$bash_dest")"
		elif [ "$bash_dir" = "$bash_user_dir" ] || dir_in_list "$bash_dir" "$searched"; then
			say "  bash: bash-completion ($bash_completion_main) loads $bash_dest on demand."
		else
			say "  bash: bash-completion does not look in $bash_dir; add this line to ~/.bashrc:"
			say "    [ -f $(shell_quote "$bash_dest") ] && . $(shell_quote "$bash_dest")"
		fi
	fi
	if [ -n "$zsh_dest" ]; then
		zsh_dir=$(dirname "$zsh_dest")
		if ! command -v zsh >/dev/null 2>&1; then
			say "  zsh: zsh is not installed here; a zsh finds $zsh_dest once its directory is in fpath."
		elif dir_in_list "$zsh_dir" "$(zsh -fc 'print -rn -- ${(j.:.)fpath}' </dev/null 2>/dev/null)"; then
			say "  zsh: $zsh_dir is in zsh's default fpath: compinit finds it."
		elif zshrc_adds "$zsh_dir"; then
			say "  zsh: ${ZDOTDIR:-~}/.zshrc adds $zsh_dir to fpath: compinit finds it."
		else
			say "  zsh: $zsh_dir is not in zsh's default fpath; add this line to ${ZDOTDIR:-~}/.zshrc, before compinit:"
			say "    fpath=($(shell_quote "$zsh_dir") \$fpath)"
		fi
	fi
	if [ -n "$fish_dest" ]; then
		fish_dir=$(dirname "$fish_dest")
		if ! command -v fish >/dev/null 2>&1; then
			say "  fish: fish is not installed here; a fish finds $fish_dest once its directory is in \$fish_complete_path."
		elif dir_in_list "$fish_dir" "$(fish_default_complete_path)"; then
			say "  fish: $fish_dir is in fish's default \$fish_complete_path: fish loads it on demand."
		else
			say "  fish: $fish_dir is not in fish's default \$fish_complete_path; add this line to ~/.config/fish/config.fish:"
			say "    set -p fish_complete_path $(fish_quote "$fish_dir")"
		fi
	fi
}

# Prints fish's default $fish_complete_path for this user, colon-separated. fish runs with
# its config and data directories in $tmp (it creates them, and reads config.fish there),
# and those are then named as the user's.
fish_default_complete_path() {
	mkdir -p "$tmp/fish-config" "$tmp/fish-data"
	# shellcheck disable=SC2016 # $fish_complete_path is fish's, expanded by fish
	XDG_CONFIG_HOME=$tmp/fish-config XDG_DATA_HOME=$tmp/fish-data \
		fish -c 'string join \n -- $fish_complete_path' </dev/null 2>/dev/null |
		while IFS= read -r d; do
			case $d in
			"$tmp/fish-config"*) d=$xdg_config${d#"$tmp/fish-config"} ;;
			"$tmp/fish-data"*) d=$xdg_data${d#"$tmp/fish-data"} ;;
			esac
			printf '%s:' "$d"
		done
}

# Succeeds when the user's .zshrc names directory $1 on a line that sets fpath.
zshrc_adds() {
	zshrc=${ZDOTDIR:-$HOME}/.zshrc
	[ -f "$zshrc" ] || return 1
	short=$1
	case $1 in "$HOME"/*) short=${1#"$HOME"/} ;; esac
	grep -F -e "$1" -e "$tilde/$short" -e "\$HOME/$short" -e "\${HOME}/$short" "$zshrc" 2>/dev/null | grep -q fpath
}

# Says whether man (and so `git help credential-pat`) finds the page installed as $1 once
# $bin_dir is on PATH, or the line to add to the profile when it does not.
man_hint() {
	man_dir=$prefix/share/man
	if ! command -v man >/dev/null 2>&1; then
		say "Man page: $1 (man is not installed here)."
		return 0
	fi
	found=$(PATH="$bin_dir:${PATH:-}" man -w git-credential-pat 2>/dev/null | head -n 1) || found=
	if [ -n "$found" ] && [ "$(physical_file "$found")" = "$(physical_file "$1")" ]; then
		say "Man page: \`man git-credential-pat\` and \`git help credential-pat\` find it ($man_dir is in man's search path when $bin_dir is on PATH)."
		return 0
	fi
	if [ -n "$found" ]; then
		say "Man page: man finds another page first ($found), not $1."
	else
		say "Man page: man does not find $1 (${MANPATH:+MANPATH is set, and }$man_dir is not in its search path)."
	fi
	if [ "$shell_name" = fish ]; then
		say "  Add this line to ~/.config/fish/config.fish:"
		say "    set -q MANPATH; or set -gx MANPATH ''; set -gxp MANPATH $(fish_quote "$man_dir")"
	else
		say "  Add this line to $profile (your shell: $shell_name):"
		say "    export MANPATH=$(path_value "$man_dir" MANPATH)"
	fi
}

do_install() {
	old_git_forced=no
	check_git
	bin_dir=$prefix/bin
	dest=$bin_dir/git-credential-pat
	pick_profile
	check_path
	if [ "$on_path" = no ]; then path_notice; fi
	pick_binary
	if read_state; then
		if [ -n "$st_prefix" ] && [ "$st_prefix" != "$prefix" ]; then
			say "Note: an earlier install used --prefix=$st_prefix; --uninstall will remove both."
		fi
	fi
	st_prefix=$prefix

	say "Installing into $prefix:"
	: >"$tmp/files"
	: >"$tmp/dirs"
	install_file "$bin_src" "$dest" 755
	man=$(shipped doc/git-credential-pat.1)
	bash_completion=$(shipped contrib/completions/git-credential-pat.bash contrib/completions/git-credential-pat)
	zsh_completion=$(shipped contrib/completions/_git-credential-pat contrib/completions/git-credential-pat.zsh)
	fish_completion=$(shipped contrib/completions/git-credential-pat.fish)
	man_dest=$prefix/share/man/man1/git-credential-pat.1
	[ -z "$man" ] || install_file "$man" "$man_dest" 644
	completion_places
	bash_dest='' zsh_dest='' fish_dest=''
	if [ -n "$bash_completion" ]; then
		install_own_file "$bash_completion" "$bash_place"
		[ "$kept_own" = yes ] || bash_dest=$bash_place
	fi
	if [ -n "$zsh_completion" ]; then
		install_own_file "$zsh_completion" "$zsh_place"
		[ "$kept_own" = yes ] || zsh_dest=$zsh_place
	fi
	if [ -n "$fish_completion" ]; then
		install_own_file "$fish_completion" "$fish_place"
		[ "$kept_own" = yes ] || fish_dest=$fish_place
	fi

	(umask 077 && make_dir "$data_dir")
	cat "$tmp/files" >>"$tmp/st-files"
	cat "$tmp/dirs" >>"$tmp/st-dirs"
	write_state

	[ -z "$man" ] || man_hint "$man_dest"
	completion_hints

	if [ "$configure" = yes ]; then
		configure_git
		if [ "$pat_cmd" = pat ]; then
			say "Check the setup with: git credential-pat doctor"
		else
			say "Check the setup with: $(shell_quote "$dest") doctor"
		fi
	else
		say "Git configuration left alone (--no-configure)."
	fi
	say "Install state recorded in $state"
	if [ "$old_git_forced" = yes ]; then
		warn "!!! Installed with $git_line (--force-old-git): upgrade git to 2.46 or newer (run ./install.sh without --force-old-git to see where a newer one comes from)."
	fi
}

# Sets bash_place, zsh_place and fish_place: where the completions go. With the default
# prefix, each goes where its shell looks for a user's completions; with --prefix, under
# DIR/share. Also sets bash_user_dir, bash-completion's directory for a user's completions.
completion_places() {
	case ${XDG_DATA_HOME:-} in
	/*) xdg_data=$XDG_DATA_HOME ;;
	*) xdg_data=$HOME/.local/share ;;
	esac
	case ${XDG_CONFIG_HOME:-} in
	/*) xdg_config=$XDG_CONFIG_HOME ;;
	*) xdg_config=$HOME/.config ;;
	esac
	case ${BASH_COMPLETION_USER_DIR:-} in
	/*) bash_user_dir=${BASH_COMPLETION_USER_DIR%%:*}/completions ;;
	*) bash_user_dir=$xdg_data/bash-completion/completions ;;
	esac
	if [ "$prefix_given" = yes ]; then
		bash_place=$prefix/share/bash-completion/completions/git-credential-pat
		fish_place=$prefix/share/fish/vendor_completions.d/git-credential-pat.fish
	else
		bash_place=$bash_user_dir/git-credential-pat
		fish_place=$xdg_config/fish/completions/git-credential-pat.fish
	fi
	zsh_place=$prefix/share/zsh/site-functions/_git-credential-pat
}

# Puts back the global credential.helper list recorded at install.
restore_config() {
	config_file=$st_config_file
	read_global_helpers "$tmp/current"
	if cmp -s "$tmp/current" "$tmp/st-after"; then
		if ! cmp -s "$tmp/current" "$tmp/st-before"; then set_global_helpers "$tmp/st-before"; fi
		say "Restored credential.helper in $config_file to what it was before install:"
		print_helpers "$tmp/st-before"
	else
		# Changed since install: take out what install added (the empty value, pat, copies
		# of the system helpers), keep everything else in its order.
		awk -v after="$tmp/st-after" -v before="$tmp/st-before" '
			BEGIN {
				while ((getline v < after) > 0) added[v]++
				while ((getline v < before) > 0) if (added[v] > 0) added[v]--
			}
			added[$0] > 0 { added[$0]--; next }
			{ print }' "$tmp/current" >"$tmp/unpat"
		drop_pat "$tmp/unpat" "$tmp/restored"
		if ! cmp -s "$tmp/current" "$tmp/restored"; then set_global_helpers "$tmp/restored"; fi
		warn "credential.helper in $config_file changed after install, so it could not be restored exactly."
		warn "  Removed what install added; it is now:"
		print_helpers "$tmp/restored" >&2
		warn "  Before install it was:"
		print_helpers "$tmp/st-before" >&2
	fi
	if [ "$st_had_section" = no ] && ! git config --global --get-regexp '^credential\.[^.]*$' >/dev/null 2>&1; then
		git config --global --remove-section credential 2>/dev/null || true
	fi
	if [ "$st_config_existed" = no ] && [ -f "$config_file" ] && [ ! -s "$config_file" ]; then
		rm -f "$config_file"
	fi
}

do_uninstall() {
	if read_state; then
		if [ "$prefix_given" = yes ] && [ "$st_prefix" != "$prefix" ]; then
			say "Note: uninstalling what was installed under $st_prefix (recorded in $state)."
		fi
		if [ "$st_configured" = yes ]; then
			[ "$configure" = yes ] ||
				die "install changed credential.helper; --no-configure would leave it naming a removed binary: run --uninstall alone"
			command -v git >/dev/null 2>&1 || die "git not found on PATH: install git, or use --no-configure to leave the git config alone"
			restore_config
		fi
	else
		say "No install state at $state: removing what is under $prefix."
		for f in bin/git-credential-pat share/man/man1/git-credential-pat.1 \
			share/bash-completion/completions/git-credential-pat \
			share/zsh/site-functions/_git-credential-pat \
			share/fish/vendor_completions.d/git-credential-pat.fish; do
			printf '%s\n' "$prefix/$f" >>"$tmp/st-files"
		done
		if [ "$prefix_given" = no ]; then
			# The completions in the shells' own user directories: only when they are
			# the shipped ones (the user may have put a completion of their own there).
			completion_places
			if [ -f "$bash_place" ] && cmp -s "$bash_place" "$src/contrib/completions/git-credential-pat.bash"; then
				printf '%s\n' "$bash_place" >>"$tmp/st-files"
			fi
			if [ -f "$fish_place" ] && cmp -s "$fish_place" "$src/contrib/completions/git-credential-pat.fish"; then
				printf '%s\n' "$fish_place" >>"$tmp/st-files"
			fi
		fi
		if [ "$configure" = yes ] && command -v git >/dev/null 2>&1; then
			config_file=$(global_config_file)
			read_global_helpers "$tmp/current"
			drop_pat "$tmp/current" "$tmp/restored"
			if ! cmp -s "$tmp/current" "$tmp/restored"; then
				set_global_helpers "$tmp/restored"
				say "Removed pat from credential.helper in $config_file; the other helpers were left as they are:"
				print_helpers "$tmp/restored"
			fi
		fi
	fi

	while IFS= read -r f; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			rm -f "$f" || die "cannot remove $f"
			say "  removed  $f"
		fi
	done <"$tmp/st-files"
	rm -f "$state"
	awk '{ d[NR] = $0 } END { for (i = NR; i > 0; i--) print d[i] }' "$tmp/st-dirs" |
		while IFS= read -r d; do rmdir "$d" 2>/dev/null || true; done

	if [ "$configure" = yes ] && command -v git >/dev/null 2>&1; then
		git config --get-all credential.helper >"$tmp/left" 2>/dev/null || true
		while IFS= read -r v; do
			if names_pat "$v"; then warn "credential.helper still names pat: '$v' (install.sh did not add it); remove it with git config --global --edit"; fi
		done <"$tmp/left"
	fi
	creds=${GIT_CREDENTIAL_PAT_FILE:-$data_dir/credentials}
	if [ -e "$creds" ]; then
		say "Stored tokens were not deleted: the file backend keeps them in $creds,"
	else
		say "Stored tokens were not deleted: the file backend keeps them in $creds (none there now),"
	fi
	say "  and the keychain backend in your OS keychain (look for git-credential-pat entries)."
	say "Uninstalled git-credential-pat."
}

# --- main ---------------------------------------------------------------------------------

prefix='' prefix_given=no configure=yes force_old_git=no action=install
while [ $# -gt 0 ]; do
	case $1 in
	--prefix=*)
		prefix=${1#--prefix=}
		prefix_given=yes
		;;
	--prefix)
		[ $# -ge 2 ] || usage_error "--prefix needs a directory"
		prefix=$2 prefix_given=yes
		shift
		;;
	--no-configure) configure=no ;;
	--force-old-git) force_old_git=yes ;;
	--uninstall) action=uninstall ;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown option: $1" ;;
	esac
	shift
done

[ -n "${HOME:-}" ] || die "HOME is not set"
if [ "$prefix_given" = yes ] && [ -z "$prefix" ]; then usage_error "--prefix needs a directory"; fi
case $prefix in
'') prefix=$HOME/.local ;;
\~) prefix=$HOME ;;
\~/*) prefix=$HOME/${prefix#??} ;;
/*) ;;
*) prefix=$PWD/$prefix ;;
esac
case $prefix in *'
'*) die "--prefix must not contain a newline" ;;
esac
while :; do
	case $prefix in
	/) break ;;
	*/) prefix=${prefix%/} ;;
	*) break ;;
	esac
done

case ${XDG_DATA_HOME:-} in
/*) data_dir=$XDG_DATA_HOME/git-credential-pat ;;
*) data_dir=$HOME/.local/share/git-credential-pat ;;
esac
state=$data_dir/install-state
src=$(cd "$(dirname "$0")" && pwd -P)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/git-credential-pat-install.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$action" = install ]; then do_install; else do_uninstall; fi
